"""Supernet training: the sandwich rule over uniformly sampled paths, on ordinary training's data and settings.

Everything but the choice of paths is ordinary training's: the task's batches and loss
(:class:`nas.tasks.Task`), the budget (``600s``, ``2000steps``: :class:`nas.tasks.Budget`), the
optimiser groups and schedule (:mod:`nas.tasks.optim`) and the loop with its clipping, non-finite
checks and learning curve (:func:`nas.tasks.loop.train`), which the supernet runs as one model.

One step (the sandwich rule of BigNAS / slimmable networks): the largest path, the smallest path and
``random_paths`` paths drawn uniformly per choice by the space each take the same batch; their losses
are summed, so one backward accumulates every path's gradient (the curve's loss is that sum). Memory
is therefore that of all the step's paths at once. ``ends=False`` drops the largest and smallest paths
(single-path one-shot training on uniform draws only; an experiment's option, not a study setting: on
kws-mel it ranked no better, see docs/weight-sharing.md). With ``distill``, every path but the largest is
also pulled towards the largest path's detached output (in-place distillation):

* kws: soft targets, ``T^2 KL(softmax(teacher / T) || softmax(student / T))`` over the classes;
* asr: the same per output frame (over the vocabulary and blank axis), averaged over frames;
* denoise: the task's own loss (waveform L1 + multi-resolution STFT) against the largest path's
  waveform in place of the clean target (a regression task has no soft targets; its teacher output
  plays their part).

A student's loss is ``(1 - distill_weight) * task loss + distill_weight * distillation loss``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from centaurus.modes import MODES
from centaurus.networks.layout import total_stride
from centaurus.networks.protocols import ArchitectureLike
from centaurus.supernet import Supernet, common_stride
from nas.errors import TaskConfigError
from nas.supernet._checkpoint import (
    SupernetCheckpointError,
    read_supernet_checkpoint,
    restore_rngs,
    save_supernet_checkpoint,
)
from nas.tasks.base import _MACHINE_SETTINGS, Task
from nas.tasks.budget import Budget
from nas.tasks.checkpoint import LoopState
from nas.tasks.config import TrainingConfig
from nas.tasks.denoise import denoising_loss
from nas.tasks.loop import train
from nas.tasks.optim import make_optimizer
from nas.tasks.results import TrainingRun
from search_spaces import SearchSpace


@dataclass(frozen=True)
class SandwichSettings:
    """How each step chooses its paths, distils, and how often a checkpoint is written (every
    ``checkpoint_every`` optimiser steps, and at the end).

    ``largest_block`` makes the sandwich's top path (and distillation's teacher) use that block type wherever
    its stage offers it, instead of the type with the most weights (``full`` in the built-in spaces, whose
    largest path costs about ten times a random path's step on a CPU: measured 19 s against 1.7 s for kws-mel
    at batch 8, one thread, loaded machine).
    """

    random_paths: int = 2
    ends: bool = True
    """Train the largest and the smallest path every step (the sandwich rule); ``False``: uniform paths only
    (single-path one-shot training: every path's weights are trained as often as any other's, none favoured)."""
    distill: bool = False
    distill_weight: float = 1.0
    temperature: float = 1.0
    checkpoint_every: int = 200
    largest_block: str | None = None

    def __post_init__(self) -> None:
        for name in ("random_paths",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TaskConfigError(f"supernet.{name}: got {value!r}; allowed: an integer >= 0")
        value = self.checkpoint_every
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TaskConfigError(f"supernet.checkpoint_every: got {value!r}; allowed: a positive integer (steps)")
        if not isinstance(self.distill, bool):
            raise TaskConfigError(f"supernet.distill: got {self.distill!r}; allowed: true or false")
        if not isinstance(self.ends, bool):
            raise TaskConfigError(f"supernet.ends: got {self.ends!r}; allowed: true or false")
        if not self.ends and self.distill:
            raise TaskConfigError(
                "supernet.distill: got true with ends false; allowed: false (distillation learns from the largest"
                " path, which only the sandwich ends train)"
            )
        if not self.ends and self.random_paths < 1:
            raise TaskConfigError(
                f"supernet.random_paths: got {self.random_paths!r} with ends false; allowed: an integer >= 1 (a step"
                " must train some path)"
            )
        if isinstance(self.distill_weight, bool) or not isinstance(self.distill_weight, (int, float)):
            raise TaskConfigError(f"supernet.distill_weight: got {self.distill_weight!r}; allowed: a number in [0, 1]")
        if not 0.0 <= self.distill_weight <= 1.0:
            raise TaskConfigError(f"supernet.distill_weight: got {self.distill_weight!r}; allowed: a number in [0, 1]")
        if self.largest_block is not None and self.largest_block not in MODES:
            raise TaskConfigError(
                f"supernet.largest_block: got {self.largest_block!r}; allowed: null or one of {', '.join(MODES)}"
            )
        if (
            isinstance(self.temperature, bool)
            or not isinstance(self.temperature, (int, float))
            or self.temperature <= 0
        ):
            raise TaskConfigError(f"supernet.temperature: got {self.temperature!r}; allowed: a positive number")

    @property
    def paths_per_step(self) -> int:
        return (2 if self.ends else 0) + self.random_paths


@dataclass
class SupernetTraining:
    """The outcome of :func:`train_supernet`: the trained supernet, the loop's record of the whole run (over
    every resumed part), where its checkpoint is, and the step it resumed from (0: a fresh run)."""

    supernet: Supernet
    run: TrainingRun
    checkpoint: Path | None
    resumed_at: int
    paths_trained: int
    """Path forward/backward passes this process ran (``paths_per_step`` per step since ``resumed_at``)."""
    paths_per_step: int


class BatchReference:
    """A path of the space standing in for all of them where a task asks an architecture for its batches: its
    ``total_stride`` is the least common multiple of every path's (:func:`centaurus.supernet.common_stride`), so
    that batches padded to it suit every path; everything else is the path's (all paths share input and output).
    """

    def __init__(self, arch: ArchitectureLike, stride: int) -> None:
        self._arch = arch
        self.total_stride = stride

    def __getattr__(self, name: str) -> object:
        return getattr(self._arch, name)


def batch_reference(supernet: Supernet) -> BatchReference:
    """The :class:`BatchReference` of ``supernet``'s space (its largest path, every path's common stride)."""
    return BatchReference(supernet.largest(), common_stride(supernet.space))


class _PathView(nn.Module):
    """One path of the supernet as a plain network for a task's ``step_loss``; keeps its last output so that
    distillation reads it without a second forward."""

    def __init__(self, supernet: Supernet, arch: ArchitectureLike) -> None:
        super().__init__()
        self.supernet = supernet
        self.arch = arch
        self.total_stride = total_stride(arch)  # what the asr loss reads of its model
        self.output: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.output = self.supernet(x, self.arch)
        return self.output


def distillation_loss(task: str, student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """The in-place distillation loss of ``task`` (see the module docstring); ``teacher`` is detached."""
    if task == "denoise":
        return denoising_loss(student, teacher)
    axis = -1 if task == "kws" else 1  # kws: (batch, classes); asr: (batch, classes, frames)
    log_student = F.log_softmax(student / temperature, dim=axis)
    log_teacher = F.log_softmax(teacher / temperature, dim=axis)
    pointwise = torch.exp(log_teacher) * (log_teacher - log_student)
    per_item = pointwise.sum(dim=axis)  # KL per example (and per frame for asr)
    return per_item.mean() * temperature**2


def _identity(budget: Budget, config: TrainingConfig, sandwich: SandwichSettings) -> dict[str, object]:
    """What a checkpoint must match to be continued (besides the space fingerprint and package version)."""
    settings = {key: value for key, value in config.to_dict().items() if key not in _MACHINE_SETTINGS}
    return {"schedule": str(budget), "training": settings, "sandwich": asdict(sandwich)}


def train_supernet(
    space: SearchSpace | Supernet,
    task: Task,
    budget: Budget | str,
    config: TrainingConfig | None = None,
    *,
    sandwich: SandwichSettings | None = None,
    checkpoint_to: str | Path | None = None,
    resume: bool = True,
) -> SupernetTraining:
    """Train a supernet of ``space`` (built from ``config.seed``; or the given :class:`Supernet`) on ``task``.

    With ``checkpoint_to``, a checkpoint is written every ``sandwich.checkpoint_every`` steps and at the
    end; when that file exists and ``resume`` is true, the run continues from it (exactly: weights,
    optimiser, loop position, torch's and the path sampler's generators). A checkpoint of another space
    or package version, or of a run with other budget, training or sandwich settings, raises
    :class:`~nas.supernet._checkpoint.SupernetCheckpointError` rather than being loaded or overwritten.
    A non-finite loss ends the run with a ``failed`` status, as ordinary training.
    """
    config = config or TrainingConfig()
    sandwich = sandwich or SandwichSettings()
    budget = Budget.parse(budget) if isinstance(budget, str) else budget
    device = config.resolved_device()
    previous_threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            supernet = space if isinstance(space, Supernet) else Supernet(space)
            supernet.to(device)
            task.check_architecture(supernet.largest())  # type: ignore[arg-type]
            reference = batch_reference(supernet)
            optimizer = make_optimizer(supernet, config)
            path_rng = random.Random(config.seed)
            state, resumed_at = LoopState(), 0
            identity = _identity(budget, config, sandwich)
            if checkpoint_to is not None and resume and Path(checkpoint_to).exists():
                state = _resume(Path(checkpoint_to), supernet, optimizer, identity, path_rng)
                resumed_at = state.steps
            counter = [0]
            step_loss = _sandwich_loss(supernet, task, sandwich, path_rng, device, counter)
            run = _train_in_parts(
                supernet, task, reference, step_loss, budget, config, sandwich, optimizer, state,
                checkpoint_to, identity, path_rng,
            )  # fmt: skip
        return SupernetTraining(
            supernet=supernet,
            run=run,
            checkpoint=None if checkpoint_to is None else Path(checkpoint_to),
            resumed_at=resumed_at,
            paths_trained=counter[0],
            paths_per_step=sandwich.paths_per_step,
        )
    finally:
        torch.set_num_threads(previous_threads)


def _resume(
    path: Path, supernet: Supernet, optimizer: torch.optim.Optimizer, identity: dict[str, object], rng: random.Random
) -> LoopState:
    checkpoint = read_supernet_checkpoint(path, supernet.fingerprint())
    stored = dict(checkpoint.identity)
    if isinstance(stored.get("sandwich"), dict):  # written before ``ends`` existed: it trained the ends
        stored["sandwich"] = {"ends": True, **stored["sandwich"]}
    if stored != identity:
        differing = sorted(k for k in identity if stored.get(k) != identity[k])
        raise SupernetCheckpointError(
            f"supernet checkpoint {path} belongs to another training run ({', '.join(differing)} differ);"
            " refused: give another checkpoint path, resume=False to start over, or the same settings"
        )
    try:
        supernet.load_state_dict(checkpoint.model)
        if checkpoint.optimizer is not None:
            optimizer.load_state_dict(checkpoint.optimizer)
    except (RuntimeError, ValueError, KeyError) as error:
        raise SupernetCheckpointError(f"supernet checkpoint {path} does not fit this supernet ({error})") from error
    restore_rngs(checkpoint.rng, rng)
    return checkpoint.loop


def _sandwich_loss(
    supernet: Supernet,
    task: Task,
    sandwich: SandwichSettings,
    rng: random.Random,
    device: torch.device,
    counter: list[int],
) -> Callable[[nn.Module, object], torch.Tensor]:
    largest, smallest = supernet.largest(sandwich.largest_block), supernet.smallest()

    def step_loss(model: nn.Module, batch: object) -> torch.Tensor:
        del model  # the loop's model is the supernet itself
        ends = [largest, smallest] if sandwich.ends else []
        archs = [*ends, *(supernet.sample(rng) for _ in range(sandwich.random_paths))]
        total: torch.Tensor | None = None
        teacher: torch.Tensor | None = None
        for index, arch in enumerate(archs):
            view = _PathView(supernet, arch)
            loss = task.step_loss(view, batch, device)
            if index == 0 and sandwich.ends:
                assert view.output is not None
                teacher = view.output.detach()
            elif sandwich.distill and teacher is not None and view.output is not None:
                distilled = distillation_loss(task.name, view.output, teacher, sandwich.temperature)
                weight = sandwich.distill_weight
                loss = distilled if weight == 1.0 else (1.0 - weight) * loss + weight * distilled
            total = loss if total is None else total + loss
            counter[0] += 1
        assert total is not None
        return total

    return step_loss


def _train_in_parts(
    supernet: Supernet,
    task: Task,
    reference: BatchReference,
    step_loss: Callable[[nn.Module, object], torch.Tensor],
    budget: Budget,
    config: TrainingConfig,
    sandwich: SandwichSettings,
    optimizer: torch.optim.Optimizer,
    state: LoopState,
    checkpoint_to: str | Path | None,
    identity: dict[str, object],
    rng: random.Random,
) -> TrainingRun:
    """Run the ordinary loop to ``budget`` in parts of ``checkpoint_every`` steps, writing a checkpoint after each.

    Parts that continue each other make exactly the steps of one run (``nas.tasks.loop``), and the schedule
    spans the whole budget, so a run killed after any checkpoint and resumed ends as an uninterrupted one.
    """
    batches = lambda epoch, first: task.train_batches(reference, config, epoch, first)  # type: ignore[arg-type]  # noqa: E731
    description = f"supernet {supernet.space.name}"
    while True:
        part = budget
        if checkpoint_to is not None:
            target = state.steps + sandwich.checkpoint_every
            if budget.steps is None or budget.steps > target:
                part = Budget(epochs=budget.epochs, steps=target, seconds=budget.seconds)
        before = state.steps
        run = train(
            supernet, batches, step_loss, part, config, schedule=budget, optimizer=optimizer, state=state,
            description=description,
        )  # fmt: skip
        if run.status != "completed":
            return run
        if checkpoint_to is not None:
            save_supernet_checkpoint(checkpoint_to, supernet, optimizer, state, identity, rng)
        finished = budget.progress(state.steps, state.epochs, state.seconds) >= 1.0
        if finished or checkpoint_to is None or state.steps == before:
            return run
