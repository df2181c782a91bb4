"""Batching for the loaders: collate functions that drop unreadable items, and random training crops.

Every dataset returns ``None`` for an item whose file turned out to be unreadable, so one bad file does not
stop training. The collate functions drop those items; if a whole batch was bad they return ``None``, and the
training loop must skip that batch (``if batch is None: continue``).

Variable-length batches are zero-padded to the longest item, rounded up to ``multiple_of``: the searched
networks downsample by their total stride and need a length divisible by it. Use
``functools.partial(collate_pairs, multiple_of=stride)`` as a DataLoader ``collate_fn`` (a partial, unlike a
lambda, can be sent to worker processes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from nas.data.loaders._arguments import EPOCH, MULTIPLE_OF, SEED, SEGMENT_LENGTH, checked
from nas.errors import TaskConfigError

__all__ = ["RandomSegments", "collate_classification", "collate_pairs", "collate_transcripts"]


class _PairSource(Protocol):
    """What RandomSegments needs: a sized, indexable source of ``(noisy, clean)`` pairs (or None)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor] | None: ...


def _round_up(length: int, multiple_of: int) -> int:
    """``length`` rounded up to a multiple of ``multiple_of``."""
    return -(-length // multiple_of) * multiple_of


def _pad_stack(waveforms: Sequence[Tensor], length: int) -> Tensor:
    """``[1, L_i]`` waveforms zero-padded at the end to ``length`` and stacked to ``[b, 1, length]``."""
    batch = waveforms[0].new_zeros((len(waveforms), 1, length))
    for row, waveform in enumerate(waveforms):
        batch[row, :, : waveform.shape[-1]] = waveform
    return batch


def collate_classification(items: Sequence[tuple[Tensor, int] | None]) -> tuple[Tensor, Tensor] | None:
    """``(audio [b, 1, L], labels [b] int64)`` from SpeechCommands items; ``None`` items are dropped.

    Returns None if every item was None. All waveforms must have the same length (SpeechCommands pads or
    crops them to its ``length``); a mismatch raises a TaskConfigError rather than silently padding.
    """
    kept = [item for item in items if item is not None]
    if not kept:
        return None
    lengths = sorted({waveform.shape[-1] for waveform, _ in kept})
    if len(lengths) > 1:
        raise TaskConfigError(
            f"collate_classification got waveforms of different lengths {lengths}: "
            "classification items must all have the dataset's fixed length"
        )
    audio = torch.stack([waveform for waveform, _ in kept])
    labels = torch.tensor([label for _, label in kept], dtype=torch.int64)
    return audio, labels


def collate_pairs(
    items: Sequence[tuple[Tensor, Tensor] | None], multiple_of: int = 1
) -> tuple[Tensor, Tensor, Tensor] | None:
    """``(noisy [b, 1, Lmax], clean [b, 1, Lmax], lengths [b] int64)`` from VoiceBankDemand items.

    Zero-padded at the end to the longest pair, rounded up to ``multiple_of``; ``lengths`` holds each pair's
    real length so losses and metrics can ignore the padding. ``None`` items are dropped; returns None if
    every item was None.
    """
    multiple_of = checked(MULTIPLE_OF, multiple_of)
    kept = [item for item in items if item is not None]
    if not kept:
        return None
    lengths = [min(noisy.shape[-1], clean.shape[-1]) for noisy, clean in kept]
    padded = _round_up(max(lengths), multiple_of)
    noisy = _pad_stack([noisy[..., :length] for (noisy, _), length in zip(kept, lengths, strict=True)], padded)
    clean = _pad_stack([clean[..., :length] for (_, clean), length in zip(kept, lengths, strict=True)], padded)
    return noisy, clean, torch.tensor(lengths, dtype=torch.int64)


def collate_transcripts(
    items: Sequence[tuple[Tensor, str] | None], multiple_of: int = 1
) -> tuple[Tensor, Tensor, list[str]] | None:
    """``(audio [b, 1, Lmax], lengths [b] int64, transcripts)`` from LibriSpeech items.

    Zero-padded at the end to the longest item, rounded up to ``multiple_of``. ``None`` items are dropped;
    returns None if every item was None.
    """
    multiple_of = checked(MULTIPLE_OF, multiple_of)
    kept = [item for item in items if item is not None]
    if not kept:
        return None
    lengths = [waveform.shape[-1] for waveform, _ in kept]
    audio = _pad_stack([waveform for waveform, _ in kept], _round_up(max(lengths), multiple_of))
    return audio, torch.tensor(lengths, dtype=torch.int64), [text for _, text in kept]


class RandomSegments(Dataset[tuple[Tensor, Tensor] | None]):
    """Random fixed-length crops of a pair dataset, for training the denoiser on uniform batches.

    Item ``i`` is a ``segment_length``-sample crop, at the same offset, of the noisy and the clean waveform
    of ``dataset[i]`` (a pair shorter than that is zero-padded at the end); ``None`` passes through. The
    offset depends only on ``(seed, epoch, index)``: the same crop for the same epoch whatever the worker or
    batch order, a new one after ``set_epoch``. Call ``set_epoch`` before iterating each epoch; with
    ``DataLoader(persistent_workers=True)`` the workers keep the epoch they started with.
    """

    def __init__(self, dataset: _PairSource, segment_length: int, seed: int) -> None:
        self.dataset = dataset
        self.segment_length = checked(SEGMENT_LENGTH, segment_length)
        self.seed = checked(SEED, seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the crops of ``epoch`` (a whole number >= 0)."""
        self.epoch = checked(EPOCH, epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def offset(self, index: int, length: int) -> int:
        """The crop start for item ``index`` of a pair ``length`` samples long, in the current epoch."""
        spare = length - self.segment_length
        if spare <= 0:
            return 0
        generator = np.random.default_rng([self.seed, self.epoch, index])
        return int(generator.integers(0, spare + 1))

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor] | None:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} items")
        pair = self.dataset[index]
        if pair is None:
            return None
        noisy, clean = pair
        length = min(noisy.shape[-1], clean.shape[-1])
        start = self.offset(index, length)
        stop = start + min(self.segment_length, length)
        return self._fit(noisy[..., start:stop]), self._fit(clean[..., start:stop])

    def _fit(self, waveform: Tensor) -> Tensor:
        """A crop zero-padded at the end to ``segment_length``."""
        missing = self.segment_length - waveform.shape[-1]
        return torch.nn.functional.pad(waveform, (0, missing)) if missing > 0 else waveform.contiguous()
