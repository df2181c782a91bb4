"""Reading audio for the loaders: a cheap corruption check at construction, mono float32 reads, resampling.

Real corpora contain a few bad files (interrupted downloads, zero-byte placeholders, macOS ``._`` files), and
a training run should not die an hour in because of one of them. So every file is checked when a dataset is
built (header only, plus one frame read at the end, well under a millisecond a file), bad ones are reported by
path in ``skipped`` with one summarising warning, and a file that still fails when it is read later makes its
item ``None``, which the collate functions drop.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import soundfile as sf
import torch
import torchaudio.functional as audio_functional
from torch import Tensor
from torch.utils.data import Dataset

from centaurus.errors import CentaurusError
from nas.data.loaders._arguments import SAMPLE_RATE, checked

__all__ = ["CorruptAudioWarning"]

_T = TypeVar("_T")

# How many paths a summarising warning lists before it says "and N more".
_PATHS_IN_WARNING = 5
# Largest sample magnitude accepted (full scale is 1; float files written with integer scaling reach 32768):
# beyond it a clip's spectrum overflows float32 and makes every training step that draws it non-finite.
MAX_ABS_SAMPLE = 1e5
# WAV ``data`` chunk size written by streaming encoders that did not know the length: not a truncation.
_WAV_UNKNOWN_SIZE = 0xFFFFFFFF


class CorruptAudioWarning(UserWarning):
    """Audio files were skipped because they could not be read; the dataset's ``skipped`` lists them."""


class _CorruptAudioError(CentaurusError):
    """A file that cannot be used; the message is the reason recorded in ``skipped``."""


@dataclass(frozen=True)
class _AudioInfo:
    """What the header says about a file that passed the check."""

    frames: int
    sample_rate: int

    @property
    def seconds(self) -> float:
        """Duration, to compare files stored at different rates."""
        return self.frames / self.sample_rate


def _wav_truncation(path: Path) -> str | None:
    """Why a RIFF/WAVE file is truncated, or None.

    libsndfile silently shortens a WAV whose ``data`` chunk is cut off (it recomputes the frame count
    from the file size), so an interrupted download would load as a short clip. The header still holds the
    size that was written, so compare it with the bytes present. RF64 and other containers are not checked.
    """
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RIFX"):
            return None
        order = "<" if head[:4] == b"RIFF" else ">"
        file_size = path.stat().st_size
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, size = chunk[:4], struct.unpack(f"{order}I", chunk[4:])[0]
            if chunk_id == b"data":
                present = file_size - handle.tell()
                if size != _WAV_UNKNOWN_SIZE and present < size:
                    return f"truncated: the WAV header declares {size} bytes of audio but only {present} are present"
                return None
            handle.seek(size + (size & 1), 1)


def _probe(path: Path) -> _AudioInfo:
    """Check ``path`` cheaply and return its header, or raise _CorruptAudioError with the reason.

    Catches unreadable headers (empty or non-audio files), zero frames, truncated WAVs, and compressed files
    (FLAC) cut short, which open fine but fail to seek to their last frame.
    """
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise _CorruptAudioError(f"unreadable header: {error}") from error
    if info.frames <= 0:
        raise _CorruptAudioError("no audio frames")
    if info.samplerate <= 0:
        raise _CorruptAudioError(f"invalid sample rate {info.samplerate}")
    truncation = _wav_truncation(path) if info.format == "WAV" else None
    if truncation is not None:
        raise _CorruptAudioError(truncation)
    try:
        with sf.SoundFile(str(path)) as handle:
            handle.seek(info.frames - 1)
            if handle.read(1, dtype="float32").shape[0] != 1:
                raise _CorruptAudioError(f"truncated: the last of {info.frames} frames cannot be read")
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise _CorruptAudioError(f"truncated: the last of {info.frames} frames cannot be read ({error})") from error
    return _AudioInfo(frames=info.frames, sample_rate=info.samplerate)


def _screen(paths: Iterable[Path]) -> tuple[dict[Path, _AudioInfo], list[tuple[Path, str]]]:
    """Probe every path: the headers of the good ones, and (path, reason) for the bad ones."""
    good: dict[Path, _AudioInfo] = {}
    bad: list[tuple[Path, str]] = []
    for path in paths:
        try:
            good[path] = _probe(path)
        except _CorruptAudioError as error:
            bad.append((path, str(error)))
    return good, bad


def _read_mono(path: Path, sample_rate: int) -> Tensor:
    """``path`` as a float32 ``[1, L]`` tensor at ``sample_rate``: channels averaged, resampled if needed.

    Raises _CorruptAudioError for anything that makes the audio unusable, including NaN or infinite samples
    (which a float WAV can hold and which would poison a whole training step).
    """
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as error:
        raise _CorruptAudioError(f"could not be read: {error}") from error
    if data.shape[0] == 0:
        raise _CorruptAudioError("no audio frames")
    waveform = torch.from_numpy(data.T.copy()).mean(dim=0, keepdim=True)
    if not bool(torch.isfinite(waveform).all()):
        raise _CorruptAudioError("contains NaN or infinite samples")
    peak = float(waveform.abs().max())
    if peak > MAX_ABS_SAMPLE:
        raise _CorruptAudioError(
            f"samples up to {peak:.3g}, beyond the {MAX_ABS_SAMPLE:g} accepted (full scale is 1): they would make"
            " the training loss non-finite"
        )
    if file_rate != sample_rate:
        waveform = audio_functional.resample(waveform, orig_freq=file_rate, new_freq=sample_rate)
    return waveform.contiguous()


def _summary(skipped: Sequence[tuple[Path, str]]) -> str:
    """The first few ``path (reason)`` entries, then how many more there are."""
    shown = "; ".join(f"{path} ({reason})" for path, reason in skipped[:_PATHS_IN_WARNING])
    rest = len(skipped) - _PATHS_IN_WARNING
    return shown + (f"; and {rest} more" if rest > 0 else "")


def _pad_or_crop(waveform: Tensor, length: int) -> Tensor:
    """``waveform`` [1, L] made exactly ``length`` long: zeros appended, or the centre ``length`` samples kept."""
    current = waveform.shape[-1]
    if current > length:
        start = (current - length) // 2
        return waveform[..., start : start + length].contiguous()
    if current < length:
        return torch.nn.functional.pad(waveform, (0, length - current))
    return waveform


class _AudioCorpus(Dataset[_T]):
    """What the three corpora share: the file list, the ``skipped`` report, and reads that skip bad files.

    With ``DataLoader(num_workers > 0)`` a file that fails in a worker is recorded in the worker's copy of
    ``skipped``; the warning is still printed, and the item is still dropped by the collate functions.
    """

    _label: str = "dataset"

    cache_bytes: int = 128 * 2**20
    """Decoded audio kept in memory per corpus, first read first kept. Reading and decoding 16 one-second
    clips takes about 17 ms on one core, a quarter to a half of a small network's training step; a small
    corpus (the demo's 57 MiB decoded) is then read from disk once per process, not once
    per epoch. 0 turns the cache off."""

    def __init__(self, root: Path, sample_rate: int) -> None:
        self.root = root
        self.sample_rate = checked(SAMPLE_RATE, sample_rate)
        self.files: list[Path] = []
        self.skipped: list[tuple[Path, str]] = []
        self._cache: dict[Path, Tensor] = {}
        self._cached_bytes = 0

    def __len__(self) -> int:
        return len(self.files)

    def _report_skipped(self, total: int) -> None:
        """One warning for everything skipped while the dataset was built (nothing if none was)."""
        if self.skipped:
            warnings.warn(
                f"{self._label} at {self.root}: skipped {len(self.skipped)} of {total} files "
                f"(listed in .skipped): {_summary(self.skipped)}",
                CorruptAudioWarning,
                stacklevel=3,
            )

    def _read(self, path: Path) -> Tensor | None:
        """Read ``path`` (from the cache when it holds it), or record it in ``skipped``, warn, and return None
        if it cannot be used. A cached waveform is returned as a copy, so no caller can change the cache."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached.clone()
        try:
            waveform = _read_mono(path, self.sample_rate)
        except _CorruptAudioError as error:
            if all(skipped_path != path for skipped_path, _ in self.skipped):
                self.skipped.append((path, str(error)))
            warnings.warn(
                f"{self._label}: skipping {path}: {error}; its item is None and the collate functions drop it",
                CorruptAudioWarning,
                stacklevel=3,
            )
            return None
        size = waveform.numel() * waveform.element_size()
        if self._cached_bytes + size <= self.cache_bytes:
            self._cache[path] = waveform.clone()
            self._cached_bytes += size
        return waveform
