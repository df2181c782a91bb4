"""The one interface the search engine uses for every task: build, fit under a budget, evaluate.

A task owns its data (read lazily from a dataset folder), its loss and its metrics. ``run`` is
what a trial executes: it seeds everything, builds the network from the spec, trains it, evaluates
it, and returns a :class:`TaskResult`; a non-finite loss or running out of memory gives a
``failed`` result with the reason, never an exception. A run may also continue an earlier one
from its checkpoint, and leave one for the next (multi-fidelity promotions: :mod:`nas.tasks.checkpoint`).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Literal

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from centaurus.networks import build
from nas.errors import TaskConfigError
from nas.tasks.budget import Budget
from nas.tasks.checkpoint import CheckpointError, LoopState, restore_checkpoint, save_checkpoint
from nas.tasks.config import TrainingConfig
from nas.tasks.loop import train
from nas.tasks.optim import make_optimizer
from nas.tasks.results import TaskResult, TrainingRun
from search_spaces import Architecture

Direction = Literal["maximize", "minimize"]


class Task(ABC):
    """Base class of the keyword-spotting, denoising and speech-recognition tasks."""

    name: ClassVar[str]
    metrics: ClassVar[dict[str, Direction]]
    """Every metric ``evaluate`` returns, with the direction in which it improves."""
    primary_metric: ClassVar[str]
    worst_values: ClassVar[dict[str, float]] = {}
    """The worst value a metric can usefully take, for the metrics that have one (accuracy 0, error rate 1):
    the quality coordinate of a hypervolume reference point that needs no trained network."""

    def __init__(self, data_root: str | Path) -> None:
        self.data_root = Path(data_root)

    # -- what each task defines -------------------------------------------------------------
    @abstractmethod
    def check_architecture(self, arch: Architecture) -> None:
        """Raise :class:`TaskConfigError` when ``arch`` cannot be trained on this task's data."""

    @abstractmethod
    def train_batches(
        self, arch: Architecture, config: TrainingConfig, epoch: int, first_batch: int = 0
    ) -> Iterable[object]:
        """The shuffled training batches of ``epoch`` from ``first_batch`` on (deterministic per seed and epoch)."""

    @abstractmethod
    def step_loss(self, model: nn.Module, batch: object, device: torch.device) -> torch.Tensor:
        """The scalar training loss of one batch."""

    @abstractmethod
    def evaluate(
        self, model: nn.Module, arch: Architecture, config: TrainingConfig, split: str = "test"
    ) -> dict[str, float]:
        """The task's metrics on ``split`` (keys are ``metrics``' keys)."""

    # -- shared behaviour ----------------------------------------------------------------------
    def build_model(self, arch: Architecture, seed: int) -> nn.Module:
        """The network of ``arch`` with weights initialised from ``seed`` alone."""
        self.check_architecture(arch)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return build(arch)

    def fit(
        self,
        model: nn.Module,
        arch: Architecture,
        budget: Budget,
        config: TrainingConfig,
        *,
        schedule: Budget | None = None,
        optimizer: torch.optim.Optimizer | None = None,
        state: LoopState | None = None,
    ) -> TrainingRun:
        """Train ``model`` (already on its device) in place under ``budget`` (see :func:`nas.tasks.loop.train`
        for ``schedule``, ``optimizer`` and ``state``)."""
        device = next(model.parameters()).device
        return train(
            model,
            lambda epoch, first: self.train_batches(arch, config, epoch, first),
            lambda net, batch: self.step_loss(net, batch, device),
            budget,
            config,
            schedule=schedule,
            optimizer=optimizer,
            state=state,
            description=f"{self.name} {arch.id[:8]}",
        )

    def run(
        self,
        arch: Architecture,
        budget: Budget,
        config: TrainingConfig | None = None,
        *,
        weights_path: str | Path | None = None,
        schedule: Budget | None = None,
        resume_from: str | Path | None = None,
        checkpoint_to: str | Path | None = None,
    ) -> TaskResult:
        """Build, train and evaluate ``arch`` on the test split; see the module docstring for failures.

        With ``weights_path``, a completed run also saves the trained ``state_dict`` there. ``schedule``
        (default: ``budget``) is the budget the learning-rate schedule spans. ``resume_from`` continues
        the run that wrote that checkpoint (``budget`` counts from the network's first step); one that
        cannot be continued means training from step 0, said in the result's ``warnings``. With
        ``checkpoint_to``, a completed run writes its checkpoint there before it is evaluated.
        """
        config = config or TrainingConfig()
        schedule = schedule or budget
        device = config.resolved_device()
        previous_threads = torch.get_num_threads()
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        identity = _checkpoint_identity(arch, schedule, config)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed)
                model = self.build_model(arch, config.seed).to(device)
                optimizer, state, warnings = make_optimizer(model, config), LoopState(), []
                if resume_from is not None:
                    try:
                        state = restore_checkpoint(resume_from, model, optimizer, identity)
                    except CheckpointError as error:
                        warnings.append(f"{error}; trained again from step 0")
                        model = self.build_model(arch, config.seed).to(device)
                        optimizer = make_optimizer(model, config)
                parameters = sum(parameter.numel() for parameter in model.parameters())
                try:
                    training = self.fit(
                        model, arch, budget, config, schedule=schedule, optimizer=optimizer, state=state
                    )
                except torch.OutOfMemoryError as error:
                    training = TrainingRun("failed", f"out of memory while training: {error}", 0, 0.0, 0.0, ())
                metrics: dict[str, float] = {}
                started = time.perf_counter()
                if training.status == "completed":
                    if checkpoint_to is not None:  # before evaluation: the generators' state is training's
                        save_checkpoint(checkpoint_to, model, optimizer, state, identity)
                    model.eval()
                    with torch.no_grad():
                        metrics = self.evaluate(model, arch, config)
                    if weights_path is not None:
                        Path(weights_path).parent.mkdir(parents=True, exist_ok=True)
                        torch.save(model.state_dict(), weights_path)
            return TaskResult(
                task=self.name,
                status=training.status,
                reason=training.reason,
                metrics=metrics,
                training=training,
                eval_seconds=time.perf_counter() - started,
                parameters=parameters,
                seed=config.seed,
                budget=str(budget),
                config=config.to_dict(),
                weights=str(weights_path) if weights_path is not None and training.status == "completed" else None,
                skipped_files=self.skipped_files(),
                checkpoint=str(checkpoint_to) if checkpoint_to is not None and training.status == "completed" else None,
                warnings=warnings,
            )
        finally:
            torch.set_num_threads(previous_threads)

    def skipped_files(self) -> list[list[str]]:
        """``[path, reason]`` of the files this task's datasets skipped (each loader keeps its own ``skipped``)."""
        found: dict[str, str] = {}
        for holder in ("_splits", "_datasets"):
            for dataset in getattr(self, holder, {}).values():
                for path, reason in getattr(dataset, "skipped", ()):
                    found.setdefault(str(path), reason)
        return [[path, reason] for path, reason in found.items()]

    def _check_task(self, arch: Architecture) -> None:
        if arch.task != self.name:
            raise TaskConfigError(f"task: the architecture is for {arch.task!r}; this task is {self.name!r}")

    def _evaluation_batches(self, dataset: Dataset, config: TrainingConfig, collate) -> DataLoader:
        """The first ``max_eval_items`` items of ``dataset`` (all when unset), in order, in evaluation batches."""
        if config.max_eval_items is not None and config.max_eval_items < len(dataset):  # type: ignore[arg-type]
            dataset = Subset(dataset, range(config.max_eval_items))
        return self._loader(dataset, config, shuffle=False, epoch=0, collate=collate, batch_size=config.eval_batch_size)

    @staticmethod
    def _loader(
        dataset: Dataset,
        config: TrainingConfig,
        *,
        shuffle: bool,
        epoch: int,
        collate,
        batch_size: int | None = None,
        first_batch: int = 0,
    ) -> DataLoader:
        """The batches of ``epoch`` from ``first_batch`` on, in an order that depends only on (seed, epoch).

        The order is drawn here rather than by the loader's sampler, so that a run continued from a
        checkpoint can start part way through an epoch without reading the batches it skips. The
        loader's own generator (the seeds of worker processes) is seeded alike, never the global one.
        """
        size = batch_size or config.batch_size
        generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
        torch.empty((), dtype=torch.int64).random_(generator=generator)  # as the loader's sampler drew: same orders
        count = len(dataset)  # type: ignore[arg-type]
        order = torch.randperm(count, generator=generator).tolist() if shuffle else list(range(count))
        return DataLoader(
            dataset,
            batch_size=size,
            sampler=order[first_batch * size :],
            generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch),
            collate_fn=collate,
            num_workers=config.num_workers,
            drop_last=False,
        )


_MACHINE_SETTINGS = ("device", "threads", "num_workers", "progress", "max_eval_items", "eval_batch_size")


def _checkpoint_identity(arch: Architecture, schedule: Budget, config: TrainingConfig) -> dict[str, object]:
    """What a checkpoint must match to be continued: the network, the schedule's budget and every training
    setting that shapes the run (not those of the machine or of evaluation)."""
    settings = {key: value for key, value in config.to_dict().items() if key not in _MACHINE_SETTINGS}
    return {"arch": arch.id, "schedule": str(schedule), "training": settings}
