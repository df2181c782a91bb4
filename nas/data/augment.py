"""Waveform augmentation for keyword spotting: time shift, gain, and background noise at a random SNR.

The classic Speech Commands recipe: shift the word within its window, change the level, and mix
in an excerpt of the corpus' own ``_background_noise_`` recordings (via ``torchaudio.functional.add_noise``).
Every draw depends only on ``(seed, epoch, index)``, so a run is reproducible whatever the number
of data-loading workers. Off by default in short search trials (a few epochs gain little from it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio.functional as audio_functional
from torch import Tensor
from torch.utils.data import Dataset

BACKGROUND_FOLDER = "_background_noise_"


def background_noise(root: str | Path, sample_rate: int = 16000) -> list[Tensor]:
    """The mono recordings in ``root/_background_noise_`` (resampled to ``sample_rate``); none if absent."""
    folder = Path(root) / BACKGROUND_FOLDER
    clips = []
    for path in sorted(folder.glob("*.wav")) if folder.is_dir() else []:
        try:
            audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        except (RuntimeError, soundfile.LibsndfileError):
            continue  # an unreadable noise file only means one noise fewer
        clip = torch.from_numpy(audio.mean(axis=1))
        if rate != sample_rate:
            clip = audio_functional.resample(clip, rate, sample_rate)
        if clip.numel() > 0 and torch.isfinite(clip).all():
            clips.append(clip)
    return clips


class KeywordAugment(Dataset[tuple[Tensor, int] | None]):
    """Wraps a ``(waveform[1, L], label)`` dataset; ``set_epoch`` changes the draws each epoch."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        noise: Sequence[Tensor] = (),
        seed: int = 0,
        max_shift: int = 1600,
        gain_db: tuple[float, float] = (-6.0, 6.0),
        snr_db: tuple[float, float] = (5.0, 20.0),
        noise_probability: float = 0.8,
    ) -> None:
        self.dataset, self.noise, self.seed = dataset, list(noise), seed
        self.max_shift, self.gain_db, self.snr_db = max_shift, gain_db, snr_db
        self.noise_probability = noise_probability
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Tensor, int] | None:
        item = self.dataset[index]
        if item is None:
            return None
        waveform, label = item
        rng = np.random.default_rng([self.seed, self.epoch, index])
        shift = int(rng.integers(-self.max_shift, self.max_shift + 1))
        shifted = torch.zeros_like(waveform)
        if shift >= 0:
            shifted[..., shift:] = waveform[..., : waveform.shape[-1] - shift]
        else:
            shifted[..., :shift] = waveform[..., -shift:]
        shifted = shifted * 10 ** (rng.uniform(*self.gain_db) / 20)
        if self.noise and rng.random() < self.noise_probability:
            clip = self.noise[int(rng.integers(len(self.noise)))]
            length = shifted.shape[-1]
            start = int(rng.integers(0, max(1, clip.numel() - length)))
            excerpt = clip[start : start + length]
            if excerpt.numel() < length:
                excerpt = excerpt.repeat(length // max(1, excerpt.numel()) + 1)[:length]
            snr = torch.tensor([rng.uniform(*self.snr_db)], dtype=shifted.dtype)
            if shifted.pow(2).sum() > 0 and excerpt.pow(2).sum() > 0:
                shifted = audio_functional.add_noise(shifted, excerpt.view(1, -1).to(shifted.dtype), snr)
        return shifted, label
