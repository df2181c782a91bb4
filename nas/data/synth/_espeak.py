"""eSpeak NG through ``ctypes``: the library and voice data shipped in the ``espeakng-loader`` wheel.

Why a fresh library per utterance: eSpeak keeps its synthesis state (glottal phase, harmonic spectra,
resonator memories, its random generator) in C statics that survive ``espeak_Terminate`` and
``espeak_Initialize``, so the same text comes out with different samples depending on what was
spoken before in the process. A corpus whose files depend on which worker spoke what first is not
reproducible, so :meth:`Synthesizer.speak` loads a private copy of the library, speaks one
utterance and unloads it again (``dlclose`` drops the statics). That costs about 0.2 ms, less than
the synthesis itself, and makes every utterance a pure function of its arguments and seed.

eSpeak's state is process-global and its callback fills one buffer: a :class:`Synthesizer` is not
thread-safe. Use one per process (:func:`shared_synthesizer`); worker processes each make their own.
"""

from __future__ import annotations

import _ctypes
import atexit
import ctypes
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nas.errors import DatasetError

if TYPE_CHECKING:
    import torch

__all__ = ["ENGLISH_VOICES", "Synthesizer", "resample", "shared_synthesizer"]

# The English accents eSpeak NG ships, named as espeak_SetVoiceByName finds them: by the voice file's
# name in lang/gmw, lower-cased ("en" is British English). Without en-shaw, which reads the Shavian
# alphabet rather than Latin text.
ENGLISH_VOICES: tuple[str, ...] = (
    "en",
    "en-029",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-gb-x-rp",
    "en-us",
    "en-us-nyc",
)

# Variants in voices/!v that do not sound like one human talker: robots and heavy echoes, whispers
# (no voicing, unusable as clean speech), a speed test, an extreme formant shift, and a file name
# with a space (eSpeak's "+variant" syntax cannot name it reliably).
_EXCLUDED_VARIANTS = frozenset(
    {
        "Demonic",
        "Mr serious",
        "RicishayMax",
        "RicishayMax2",
        "RicishayMax3",
        "Tweaky",
        "UniRobot",
        "anikaRobot",
        "announcer",
        "caleb",
        "fast",
        "robosoft",
        "robosoft2",
        "robosoft3",
        "robosoft4",
        "robosoft5",
        "robosoft6",
        "robosoft7",
        "robosoft8",
        "whisper",
        "whisperf",
    }
)

# speak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_VOLUME = 2
_PARAM_PITCH = 3
_PARAM_RANGE = 4

_RATE_LIMITS = (80, 450)
_PERCENT_LIMITS = (0, 100)
_VOLUME_LIMITS = (0, 200)

_LIBC = ctypes.CDLL(None)  # the process's own symbols, libc's srand among them (POSIX)
_dlclose = _ctypes.dlclose  # POSIX; dropping a library's statics needs a real unload

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Voice(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h (only read, never owned)."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


@dataclass(frozen=True)
class _Paths:
    """Where the library and its data live; the private copy is what we ``dlopen`` and ``dlclose``."""

    library: Path
    data: Path
    private_copy: Path


def _locate() -> tuple[Path, Path]:
    try:
        import espeakng_loader
    except ImportError as error:
        raise DatasetError(
            "speech synthesis needs the 'espeakng-loader' package (it ships libespeak-ng and its voices): "
            "install it with `pip install espeakng-loader`"
        ) from error
    library = Path(espeakng_loader.get_library_path())
    try:
        data = Path(espeakng_loader.get_data_path())
    except RuntimeError as error:
        raise DatasetError(f"espeakng-loader has no espeak-ng-data folder: {error}") from error
    if not library.is_file():
        raise DatasetError(f"espeakng-loader's library {library} does not exist; reinstall espeakng-loader")
    return library, data


def _remove_if_owner(pid: int, folder: Path) -> None:
    """Delete the private library copy at exit, but not from a forked child that inherited the handler."""
    if os.getpid() == pid:
        shutil.rmtree(folder, ignore_errors=True)


def _check_range(field: str, value: int, limits: tuple[int, int]) -> int:
    if not limits[0] <= value <= limits[1]:
        raise DatasetError(f"{field}={value} is outside eSpeak's range {limits[0]}..{limits[1]}")
    return int(value)


class Synthesizer:
    """eSpeak NG speaking English with many voices; one per process, not thread-safe.

    ``sample_rate`` is eSpeak's native rate (22050 Hz with the bundled data); :meth:`speak` returns
    audio at that rate unless ``target_rate`` asks for a resampled copy.
    """

    def __init__(self) -> None:
        library, data = _locate()
        self._workdir = Path(tempfile.mkdtemp(prefix="centaurus-espeak-"))
        atexit.register(_remove_if_owner, os.getpid(), self._workdir)
        # A private file name, so that no other loader of libespeak-ng in this process shares our
        # handle and keeps the library (and its statics) alive across our dlclose.
        private = self._workdir / f"libespeak-ng-centaurus-{os.getpid()}.so"
        shutil.copyfile(library, private)
        self._paths = _Paths(library=library, data=data, private_copy=private)
        self._chunks: list[np.ndarray] = []
        self._callback = _SynthCallback(self._collect)
        self._lib: ctypes.CDLL | None = None
        self.sample_rate = self._load()
        self._base_voices, self._variants, self._variant_gender = self._list_voices()
        self._unload()

    # -- library lifetime -------------------------------------------------------------------

    def _collect(self, wav: ctypes._Pointer, count: int, events: int | None) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def _load(self) -> int:
        try:
            lib = ctypes.CDLL(str(self._paths.private_copy), mode=os.RTLD_LOCAL)
        except OSError as error:
            raise DatasetError(
                f"cannot load the eSpeak NG library {self._paths.library}: {error}; "
                "reinstall espeakng-loader for this platform"
            ) from error
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        # eSpeak looks for "<path>/espeak-ng-data" (and, in newer releases, <path> itself).
        parent = str(self._paths.data.parent).encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, parent, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            _dlclose(lib._handle)
            raise DatasetError(
                f"eSpeak NG failed to initialise with its data folder {self._paths.data} (status {rate}); "
                "reinstall espeakng-loader"
            )
        lib.espeak_SetSynthCallback(self._callback)
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._lib = lib
        return rate

    def _unload(self) -> None:
        lib, self._lib = self._lib, None
        if lib is not None:
            lib.espeak_Terminate()
            _dlclose(lib._handle)

    def _list_voices(self) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]:
        assert self._lib is not None
        self._lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
        self._lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        files: set[str] = set()
        listing = self._lib.espeak_ListVoices(None)
        index = 0
        while listing[index]:
            identifier = (listing[index].contents.identifier or b"").decode("utf-8")
            files.add(identifier.rsplit("/", 1)[-1].lower())
            index += 1
        base = tuple(voice for voice in ENGLISH_VOICES if voice in files)
        if not base:
            raise DatasetError(f"eSpeak NG's data folder {self._paths.data} has no English voice")
        spec = _Voice()
        keep = ctypes.c_char_p(b"variant")
        spec.languages = ctypes.cast(keep, ctypes.c_void_p)
        listing = self._lib.espeak_ListVoices(ctypes.byref(spec))
        variants: dict[str, str] = {}
        index = 0
        while listing[index]:
            voice = listing[index].contents
            identifier = (voice.identifier or b"").decode("utf-8")
            name = identifier.split("/", 1)[-1]
            if identifier.startswith("!v/") and name not in _EXCLUDED_VARIANTS:
                variants[name] = "F" if voice.gender == 2 else "M"
            index += 1
        return base, tuple(sorted(variants)), variants

    # -- voices -----------------------------------------------------------------------------

    def base_voices(self) -> tuple[str, ...]:
        """The English accents (``en-us``, ``en-gb-scotland``, ...) usable before a ``+variant``."""
        return self._base_voices

    def variants(self) -> tuple[str, ...]:
        """The voice variants (``f3``, ``m2``, ``klatt``, ...) that sound like one human talker."""
        return self._variants

    def voices(self) -> list[str]:
        """Every usable English voice name: each accent alone and with each variant (``en-us+f3``)."""
        names = list(self._base_voices)
        names += [f"{base}+{variant}" for base in self._base_voices for variant in self._variants]
        return names

    def gender(self, voice: str) -> str:
        """``"F"`` or ``"M"`` as the variant file declares (eSpeak's plain voices are male)."""
        _, _, variant = voice.partition("+")
        return self._variant_gender.get(variant, "M")

    def _check_voice(self, voice: str) -> None:
        base, _, variant = voice.partition("+")
        if base not in self._base_voices or (variant and variant not in self._variant_gender):
            raise DatasetError(
                f"voice={voice!r} is not a usable English eSpeak voice; allowed: one of "
                f"{', '.join(self._base_voices)}, optionally followed by '+' and a variant such as "
                f"{', '.join(self._variants[:6])} (see Synthesizer.voices())"
            )

    # -- speech -----------------------------------------------------------------------------

    def speak(
        self,
        text: str,
        voice: str = "en-us",
        rate_wpm: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
        volume: int = 100,
        *,
        seed: int = 0,
        target_rate: int | None = None,
    ) -> np.ndarray:
        """Speak ``text``: float32 mono in [-1, 1] at ``sample_rate`` (or at ``target_rate`` if given).

        ``rate_wpm`` is 80..450 words per minute, ``pitch`` and ``pitch_range`` 0..100 (50 is the
        voice's own), ``volume`` 0..200 (100 normal). ``seed`` seeds both eSpeak's random generator
        and the C library's ``rand`` (breath and Klatt aspiration noise); the output depends on
        nothing else.
        """
        if not text.strip():
            raise DatasetError(f"text={text!r} is empty; eSpeak needs at least one word to speak")
        self._check_voice(voice)
        rate_wpm = _check_range("rate_wpm", rate_wpm, _RATE_LIMITS)
        pitch = _check_range("pitch", pitch, _PERCENT_LIMITS)
        pitch_range = _check_range("pitch_range", pitch_range, _PERCENT_LIMITS)
        volume = _check_range("volume", volume, _VOLUME_LIMITS)
        self._load()
        assert self._lib is not None
        try:
            lib = self._lib
            if lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                raise DatasetError(f"eSpeak NG could not select voice={voice!r}")
            lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
            lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
            lib.espeak_SetParameter(_PARAM_RANGE, pitch_range, 0)
            lib.espeak_SetParameter(_PARAM_VOLUME, volume, 0)
            set_seed = getattr(lib, "espeak_ng_SetRandSeed", None)
            if set_seed is not None:  # eSpeak NG >= 1.52; older releases seed from the clock
                set_seed.argtypes = [ctypes.c_long]
                set_seed(int(seed) & 0x7FFFFFFF)
            # The Klatt voices draw their aspiration noise from the C library's rand(), whose state
            # lives in libc and survives our dlclose: seed it too.
            _LIBC.srand(ctypes.c_uint(int(seed) & 0xFFFFFFFF))
            encoded = text.encode("utf-8") + b"\0"
            self._chunks = []
            status = lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise DatasetError(f"eSpeak NG failed to speak {text[:40]!r} with voice={voice!r} (status {status})")
            chunks, self._chunks = self._chunks, []
        finally:
            self._unload()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        audio = samples.astype(np.float32) / 32768.0
        if target_rate is not None and target_rate != self.sample_rate:
            audio = resample(audio, self.sample_rate, target_rate)
        return audio


@functools.lru_cache(maxsize=4)
def _resampler(orig_rate: int, new_rate: int) -> torch.nn.Module:
    """torchaudio's resampler with its sinc kernel computed once per rate pair (``resample`` recomputes it per call)."""
    import torchaudio.transforms

    return torchaudio.transforms.Resample(orig_rate, new_rate)


def resample(audio: np.ndarray, orig_rate: int, new_rate: int = 16000) -> np.ndarray:
    """Band-limited resampling with torchaudio (``torchaudio.functional.resample``'s sinc kernel), float32.

    Two torch settings are changed for the call and restored after. oneDNN is off: it builds and
    caches a convolution primitive for every input length, which made resampling thousands of clips
    of different lengths 10x slower and grew the process by about 1 GB. And one thread: on clips
    this short torch's thread pool costs more than it saves (a corpus took 3x longer with two
    threads); parallelism comes from worker processes instead. Results are identical either way.
    """
    if orig_rate == new_rate:
        return np.asarray(audio, dtype=np.float32)
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    onednn, threads = torch.backends.mkldnn.enabled, torch.get_num_threads()
    # torch types the flag as its descriptor (ContextProp); assigning a bool is how torch sets it, and
    # torch.backends.mkldnn.flags() would warn about TF32 on every import of this path.
    torch.backends.mkldnn.enabled = False  # type: ignore[assignment]
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return _resampler(int(orig_rate), int(new_rate))(tensor).numpy()
    finally:
        torch.set_num_threads(threads)
        torch.backends.mkldnn.enabled = onednn


_SHARED: dict[int, Synthesizer] = {}


def shared_synthesizer() -> Synthesizer:
    """This process's :class:`Synthesizer`, created on first use (a forked child makes its own)."""
    pid = os.getpid()
    if pid not in _SHARED:
        _SHARED.clear()
        _SHARED[pid] = Synthesizer()
    return _SHARED[pid]
