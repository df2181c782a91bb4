"""Noise for the synthetic corpora, and mixing speech with noise at an exact SNR.

Every generator takes a ``numpy.random.Generator`` and returns float32 at unit RMS, so the same
generator state gives the same noise and the mixer alone decides the level. Kinds:

- ``white``: Gaussian, flat spectrum.
- ``pink``: power spectral density ~ 1/f (-3.01 dB per octave), shaped in the Fourier domain.
- ``brown``: PSD ~ 1/f^2 (-6.02 dB per octave), shaped the same way (no DC, no drift to the rails).
- ``hum``: 50 or 60 Hz mains with random harmonics, slow frequency drift and amplitude wobble.
- ``babble``: 3-6 eSpeak talkers reading random sentences at once.
- ``real``: random excerpts of the user's own recordings (:class:`NoiseFolder`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from nas.data.synth._audio import SAMPLE_RATE, active_speech_mask, fit_length, trim_silence
from nas.data.synth._espeak import Synthesizer, resample, shared_synthesizer
from nas.data.synth._text import random_sentence
from nas.errors import DatasetError

__all__ = [
    "NOISE_KINDS",
    "SYNTHETIC_NOISE_KINDS",
    "Mixture",
    "NoiseFolder",
    "NoiseMaker",
    "babble_noise",
    "brown_noise",
    "colored_noise",
    "hum_noise",
    "mix_at_snr",
    "pink_noise",
    "white_noise",
]

SYNTHETIC_NOISE_KINDS: tuple[str, ...] = ("white", "pink", "brown", "hum", "babble")
NOISE_KINDS: tuple[str, ...] = (*SYNTHETIC_NOISE_KINDS, "real")


def _unit_rms(signal: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(signal, dtype=np.float64)))) if len(signal) else 0.0
    if rms == 0.0:
        return signal.astype(np.float32)
    return (signal / rms).astype(np.float32)


def white_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise, unit RMS."""
    return _unit_rms(rng.standard_normal(length))


def colored_noise(length: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise whose power spectral density falls as ``1 / f**exponent``, unit RMS.

    White Gaussian noise is shaped by ``f**(-exponent / 2)`` in amplitude over the whole clip's FFT,
    so the slope is exact at every frequency (no filter approximation), and the DC bin is zeroed so
    brown noise cannot wander off. ``exponent`` 1 is pink (-3.01 dB/octave), 2 brown (-6.02 dB/octave).
    """
    if length <= 1:
        return np.zeros(length, dtype=np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.fft.rfftfreq(length)
    gain = np.zeros_like(frequencies)
    gain[1:] = frequencies[1:] ** (-exponent / 2.0)
    return _unit_rms(np.fft.irfft(spectrum * gain, n=length))


def pink_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise, unit RMS."""
    return colored_noise(length, rng, 1.0)


def brown_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Brown (1/f^2) noise, unit RMS."""
    return colored_noise(length, rng, 2.0)


def _smooth_random(length: int, rng: np.random.Generator, sample_rate: int, knot_seconds: float) -> np.ndarray:
    """A slowly varying zero-mean, unit-scale curve: Gaussian knots every ``knot_seconds``, linearly joined."""
    knots = max(2, math.ceil(length / (knot_seconds * sample_rate)) + 2)
    positions = np.arange(knots) * knot_seconds * sample_rate
    return np.interp(np.arange(length), positions, rng.standard_normal(knots))


def hum_noise(length: int, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mains hum: 50 or 60 Hz and its harmonics, with drift and wobble, unit RMS.

    Mains frequency wanders by a few tenths of a hertz and transformers add odd harmonics, so the
    fundamental drifts smoothly (about 0.3 %), odd harmonics get extra weight, the amplitude wobbles
    by about 10 %, and a faint white floor (-45 dB) keeps the spectrum from being exactly line-only.
    """
    fundamental = float(rng.choice([50.0, 60.0]))
    drift = 1.0 + 0.003 * _smooth_random(length, rng, sample_rate, knot_seconds=0.7)
    phase = 2.0 * np.pi * np.cumsum(fundamental * drift) / sample_rate
    harmonics = int(rng.integers(4, 13))
    signal = np.zeros(length)
    for harmonic in range(1, harmonics + 1):
        if harmonic * fundamental * 1.01 >= sample_rate / 2:
            break
        amplitude = rng.uniform(0.3, 1.0) / harmonic ** rng.uniform(0.6, 1.4)
        if harmonic % 2 == 1:
            amplitude *= rng.uniform(1.0, 2.0)
        signal += amplitude * np.sin(harmonic * phase + rng.uniform(0.0, 2.0 * np.pi))
    wobble = 1.0 + 0.1 * _smooth_random(length, rng, sample_rate, knot_seconds=0.4)
    signal = _unit_rms(signal * wobble)
    return _unit_rms(signal + 10.0 ** (-45.0 / 20.0) * rng.standard_normal(length))


def babble_noise(
    length: int,
    rng: np.random.Generator,
    voices: Sequence[str],
    *,
    talkers: tuple[int, int] = (3, 6),
    synthesizer: Synthesizer | None = None,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Several eSpeak talkers (``talkers`` inclusive range) reading random sentences at once, unit RMS.

    Each talker gets a random voice from ``voices``, its own pitch and speed, speaks sentences with
    short pauses until the clip is covered, starts at a random point of its stream, and is scaled to
    equal loudness +/- 3 dB, so no single talker dominates (a cocktail party, not a conversation).
    """
    if not voices:
        raise DatasetError("babble noise needs at least one voice; voices=[] was given")
    synthesizer = synthesizer or shared_synthesizer()
    count = int(rng.integers(talkers[0], talkers[1] + 1))
    mixture = np.zeros(length)
    for _ in range(count):
        voice = voices[int(rng.integers(len(voices)))]
        pitch, pitch_range, rate = int(rng.integers(25, 76)), int(rng.integers(30, 81)), int(rng.integers(140, 211))
        lead = int(rng.integers(0, sample_rate))  # start mid-stream, not every talker on an onset
        pieces: list[np.ndarray] = []
        total = 0
        while total < length + lead:
            speech = synthesizer.speak(
                random_sentence(rng),
                voice,
                rate,
                pitch,
                pitch_range,
                60,
                seed=int(rng.integers(2**31)),
                target_rate=sample_rate,
            )
            speech = trim_silence(speech, sample_rate)
            pause = np.zeros(int(rng.integers(sample_rate // 20, sample_rate // 3)), dtype=np.float32)
            pieces += [speech, pause]
            total += len(speech) + len(pause)
        stream = np.concatenate(pieces)[lead : lead + length]
        mixture += _unit_rms(stream) * 10.0 ** (rng.uniform(-3.0, 3.0) / 20.0)
    return _unit_rms(mixture)


def _audio_suffixes() -> frozenset[str]:
    names = {name.lower() for name in sf.available_formats()}
    return frozenset({f".{name}" for name in names} | {".aif", ".oga", ".opus", ".wave"})


@dataclass(frozen=True)
class _Segment:
    """A file, or the part of it between two fractions of its length (how one file is split in time)."""

    path: str
    start: float = 0.0
    stop: float = 1.0


@dataclass
class NoiseFolder:
    """Random excerpts of real recordings from a folder (searched recursively), at ``sample_rate``.

    Any file soundfile can read counts (wav, flac, ogg, mp3, aiff, ...); other files are ignored, a
    file with an audio extension that cannot be read is an error. Excerpts start at a random sample
    of a random file, are averaged to mono, resampled, and looped when the file is shorter than the
    excerpt. Only headers are read up front; each excerpt reads just the samples it needs.
    """

    folder: str
    sample_rate: int = SAMPLE_RATE
    segments: tuple[_Segment, ...] = ()
    _info: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        root = Path(self.folder)
        if not root.is_dir():
            raise DatasetError(f"noise_dir={self.folder!r} is not a folder; give a folder of noise recordings")
        if not self.segments:
            suffixes = _audio_suffixes()
            files = sorted(
                path
                for path in root.rglob("*")
                if path.is_file() and path.suffix.lower() in suffixes and not path.name.startswith(".")
            )
            self.segments = tuple(_Segment(str(path)) for path in files)
        for segment in self.segments:
            self._frames(segment.path)
        if not self.segments:
            raise DatasetError(
                f"noise_dir={self.folder!r} has no audio file soundfile can read "
                f"(looked for {', '.join(sorted(_audio_suffixes())[:12])}, ...)"
            )

    def _frames(self, path: str) -> tuple[int, int]:
        if path not in self._info:
            try:
                info = sf.info(path)
            except (RuntimeError, sf.LibsndfileError) as error:
                raise DatasetError(f"noise file {path} cannot be read: {error}") from error
            if info.frames <= 0:
                raise DatasetError(f"noise file {path} has no samples")
            self._info[path] = (int(info.frames), int(info.samplerate))
        return self._info[path]

    @property
    def files(self) -> tuple[str, ...]:
        """The distinct recordings this folder draws from, in sorted order."""
        return tuple(dict.fromkeys(segment.path for segment in self.segments))

    def split(self, held_out: float, rng: np.random.Generator) -> tuple[NoiseFolder, NoiseFolder]:
        """Two disjoint sources: (kept, held out), for train and test noises that never overlap.

        With two or more files, whole files go to one side (at least one each); a single file is
        split in time instead, its last ``held_out`` fraction going to the held-out side.
        """
        if not 0.0 < held_out < 1.0:
            raise DatasetError(f"held_out={held_out} must be strictly between 0 and 1")
        files = self.files
        if len(files) == 1:
            only = files[0]
            cut = 1.0 - held_out
            kept: tuple[_Segment, ...] = (_Segment(only, 0.0, cut),)
            out: tuple[_Segment, ...] = (_Segment(only, cut, 1.0),)
        else:
            order = [files[int(index)] for index in rng.permutation(len(files))]
            count = min(len(files) - 1, max(1, round(held_out * len(files))))
            out = tuple(_Segment(path) for path in sorted(order[:count]))
            kept = tuple(_Segment(path) for path in sorted(order[count:]))
        return (
            NoiseFolder(self.folder, self.sample_rate, kept, dict(self._info)),
            NoiseFolder(self.folder, self.sample_rate, out, dict(self._info)),
        )

    def only(self, path: str) -> NoiseFolder:
        """This folder restricted to one of its recordings (keeping its time range, if split)."""
        segments = tuple(segment for segment in self.segments if segment.path == path)
        if not segments:
            raise DatasetError(f"{path} is not one of the recordings in noise_dir={self.folder!r}")
        return NoiseFolder(self.folder, self.sample_rate, segments, dict(self._info))

    def seconds(self, path: str) -> float:
        """Duration of one recording."""
        frames, rate = self._frames(path)
        return frames / rate

    def excerpt(self, length: int, rng: np.random.Generator) -> np.ndarray:
        """``length`` samples of a random recording, unit RMS (silent picks are redrawn, up to 8 times)."""
        for _ in range(8):
            segment = self.segments[int(rng.integers(len(self.segments)))]
            frames, native_rate = self._frames(segment.path)
            first, last = int(segment.start * frames), max(int(segment.start * frames) + 1, int(segment.stop * frames))
            needed = math.ceil(length * native_rate / self.sample_rate) + 64
            if last - first > needed:
                start = int(rng.integers(first, last - needed + 1))
                audio = self._read(segment.path, start, start + needed)
            else:
                audio = self._read(segment.path, first, last)
                offset = int(rng.integers(len(audio)))
                audio = np.tile(np.roll(audio, -offset), needed // len(audio) + 1)[:needed]
            audio = fit_length(resample(audio, native_rate, self.sample_rate), length)
            if np.any(audio != 0.0):
                return _unit_rms(audio)
        raise DatasetError(f"noise_dir={self.folder!r}: 8 random excerpts in a row were digital silence")

    @staticmethod
    def _read(path: str, start: int, stop: int) -> np.ndarray:
        try:
            audio, _ = sf.read(path, start=start, stop=stop, dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError) as error:
            raise DatasetError(f"noise file {path} cannot be read: {error}") from error
        return audio.mean(axis=1)


@dataclass
class NoiseMaker:
    """Makes noise of any kind by name, for one split: its babble voices and real recordings."""

    babble_voices: tuple[str, ...] = ()
    folder: NoiseFolder | None = None
    sample_rate: int = SAMPLE_RATE

    def make(self, kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
        """``length`` samples of noise ``kind`` (one of :data:`NOISE_KINDS`), unit RMS."""
        if kind == "white":
            return white_noise(length, rng)
        if kind == "pink":
            return pink_noise(length, rng)
        if kind == "brown":
            return brown_noise(length, rng)
        if kind == "hum":
            return hum_noise(length, rng, self.sample_rate)
        if kind == "babble":
            return babble_noise(length, rng, self.babble_voices, sample_rate=self.sample_rate)
        if kind == "real":
            if self.folder is None:
                raise DatasetError("noise kind 'real' needs a noise folder (noise_dir / --noise-dir)")
            return self.folder.excerpt(length, rng)
        raise DatasetError(f"noise kind={kind!r} is unknown; allowed: {', '.join(NOISE_KINDS)}")


@dataclass(frozen=True)
class Mixture:
    """Speech plus noise at ``snr_db``, all three scaled by ``scale`` (< 1 only when the mix would clip)."""

    noisy: np.ndarray
    clean: np.ndarray
    noise: np.ndarray
    snr_db: float
    scale: float


def mix_at_snr(
    speech: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    *,
    active: np.ndarray | None = None,
    peak_limit: float = 0.99,
) -> Mixture:
    """Add ``noise`` to ``speech`` so that the SNR over the active speech is exactly ``snr_db``.

    SNR = 10 log10(sum(speech[A]^2) / sum(noise[A]^2)) where A is ``active`` (a boolean mask, or
    :func:`active_speech_mask` of the speech when None): the power ratio over the samples where the
    speech is active, so pauses and the padding around a keyword do not inflate the noise level
    (as with ITU-T P.56's active speech level). Pass ``active=np.ones(n, bool)`` for the whole clip.
    If the mix's peak exceeds ``peak_limit``, speech, noise and mix are all scaled down by the same
    ``scale`` (recorded), which leaves the SNR unchanged.
    """
    speech = np.asarray(speech, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    if speech.shape != noise.shape:
        raise DatasetError(f"speech and noise must have the same length, got {speech.shape} and {noise.shape}")
    mask = active_speech_mask(speech) if active is None else np.asarray(active, dtype=bool)
    speech_power = float(np.sum(speech[mask] ** 2))
    noise_power = float(np.sum(noise[mask] ** 2))
    if speech_power == 0.0:
        raise DatasetError("cannot mix at an SNR: the speech is silent over its active part")
    if noise_power == 0.0:
        raise DatasetError("cannot mix at an SNR: the noise is silent where the speech is active")
    noise = noise * math.sqrt(speech_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    noisy = speech + noise
    peak = float(np.max(np.abs(noisy))) if len(noisy) else 0.0
    scale = peak_limit / peak if peak > peak_limit else 1.0
    return Mixture(
        noisy=(noisy * scale).astype(np.float32),
        clean=(speech * scale).astype(np.float32),
        noise=(noise * scale).astype(np.float32),
        snr_db=float(snr_db),
        scale=float(scale),
    )
