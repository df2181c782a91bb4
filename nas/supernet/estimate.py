"""Estimated quality of many architectures from one trained supernet.

Each path is extracted (:meth:`centaurus.supernet.Supernet.extract`), its batch-norm statistics are
recalibrated on a few training batches (the shared ones were averaged over all paths and fit none),
and it is evaluated with the task's ordinary evaluation on the validation split, so the metrics are
the dict an ordinary trial reports, with its keys and directions. The data is read once for all
architectures: the calibration batches are drawn once, and the evaluation split's items are kept in
memory after their first reading (hundreds of architectures re-read nothing from disk).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from centaurus.networks.protocols import ArchitectureLike
from centaurus.supernet import Supernet, calibrate_batchnorm
from nas.errors import TaskConfigError
from nas.supernet._checkpoint import load_supernet
from nas.supernet._train import batch_reference
from nas.tasks.base import Task
from nas.tasks.config import TrainingConfig
from nas.tasks.optim import make_optimizer

DEFAULT_CALIBRATION_BATCHES = 8

# The split estimates are measured on: the validation split where the corpus has one (the test split stays
# for stand-alone confirmation); VoiceBank+DEMAND has only train and test.
_VALIDATION_SPLITS = {"kws": "validation", "asr": "validation", "denoise": "test"}


class _MemoryDataset(Dataset):
    """A dataset whose items are kept after their first reading (evaluation reads the same items per arch)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.items: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> Any:
        if index not in self.items:
            self.items[index] = self.dataset[index]
        return self.items[index]


@contextmanager
def _split_in_memory(task: Task, split: str) -> Iterator[None]:
    """While open, ``task.dataset(split, arch)`` (what every task's ``evaluate`` reads) answers a memoised copy."""
    original = task.dataset  # type: ignore[attr-defined]
    cache: dict[int, _MemoryDataset] = {}

    def dataset(name: str, arch: ArchitectureLike) -> Dataset:
        found = original(name, arch)
        if name != split:
            return found
        return cache.setdefault(id(found), _MemoryDataset(found))

    setattr(task, "dataset", dataset)  # noqa: B010 - an instance attribute shadows the method while open
    try:
        yield
    finally:
        delattr(task, "dataset")


def validation_split(task: Task) -> str:
    """The split :func:`estimate` evaluates on by default for ``task``."""
    return _VALIDATION_SPLITS.get(task.name, "validation")


def estimate(
    source: Supernet | str | Path,
    archs: Sequence[ArchitectureLike],
    data: Task,
    config: TrainingConfig | None = None,
    *,
    calibration_batches: int = DEFAULT_CALIBRATION_BATCHES,
    split: str | None = None,
    finetune_steps: int = 0,
) -> list[dict[str, float]]:
    """The metrics of each of ``archs`` as a path of the supernet (a :class:`Supernet` or a checkpoint path).

    ``data`` is the task whose data and evaluation are used (its loaded datasets are reused across calls);
    ``config`` sets batch sizes, ``max_eval_items``, seed and device as in ordinary training (progress bars
    off by default). ``calibration_batches`` training batches recalibrate each path's batch norms; ``split``
    defaults to :func:`validation_split`. A checkpoint of another package version is refused
    (:class:`~nas.supernet._checkpoint.SupernetCheckpointError`); an architecture that is no path of the
    supernet raises :class:`~centaurus.errors.CentaurusConfigError` naming its stage and field.

    ``finetune_steps`` > 0 trains each extracted path that many optimiser steps (the task's loss and
    optimiser, the same first training batches for every path) before calibrating it: the estimate then
    measures what the inherited weights become after a little training of their own, not only what they
    are. The supernet itself is not changed.
    """
    if isinstance(finetune_steps, bool) or not isinstance(finetune_steps, int) or finetune_steps < 0:
        raise TaskConfigError(f"finetune_steps: got {finetune_steps!r}; allowed: an integer >= 0")
    config = config or TrainingConfig(progress=False)
    if isinstance(source, Supernet):
        supernet = source
    else:
        supernet = load_supernet(source, config.resolved_device())
    archs = list(archs)
    if not archs:
        return []
    split = split or validation_split(data)
    supernet.paths(archs)  # every architecture checked before any is evaluated
    # Unaugmented training batches every path can read: statistics for the clean inputs evaluation sees.
    calibration = _first_batches(supernet, data, replace(config, augment=False), calibration_batches)
    # Ordinary (augmented) batches, drawn once: every path fine-tunes on the same.
    finetuning = _first_batches(supernet, data, config, finetune_steps) if finetune_steps else []
    results: list[dict[str, float]] = []
    with _split_in_memory(data, split), torch.random.fork_rng(devices=[]):
        for arch in archs:
            model = supernet.extract(arch)
            if finetuning:
                _finetune(model, data, config, finetuning)
            calibrate_batchnorm(model, calibration)
            model.eval()
            with torch.no_grad():
                results.append(data.evaluate(model, arch, config, split))  # type: ignore[arg-type]
    return results


def _first_batches(supernet: Supernet, data: Task, config: TrainingConfig, count: int) -> list[object]:
    """The first ``count`` usable training batches of epoch 0, in a shape every path of ``supernet`` reads."""
    batches = data.train_batches(batch_reference(supernet), config, 0)  # type: ignore[arg-type]
    return list(itertools.islice((b for b in batches if b is not None), count))


def _finetune(model: torch.nn.Module, data: Task, config: TrainingConfig, batches: list[object]) -> None:
    device = config.resolved_device()
    torch.manual_seed(config.seed)  # inside the caller's fork_rng: every path trains with the same randomness
    optimizer = make_optimizer(model, config)
    model.train()
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        data.step_loss(model, batch, device).backward()
        optimizer.step()
