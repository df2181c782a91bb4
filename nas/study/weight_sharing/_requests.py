"""What the weight-sharing strategy sends to a worker and gets back: supernet training and estimation.

Two kinds of work run on workers: training the study's one supernet (:class:`SupernetTraining`, one
task, resumable from its checkpoint) and estimating architectures on it (:class:`Estimation`, one
task per batch of architectures, all sharing the checkpoint by path, as promotions share theirs:
on a cluster the study's ``artifacts`` folder must be one every node sees). Both are frozen
dataclasses of plain values and specs, so they pickle to Ray workers unchanged. The functions
that do the work are swappable (:class:`SupernetFunctions`): tests and benchmarks use fast stand-ins,
exactly as a trial backend's trial function can be swapped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from nas.study.config import Constraint
from nas.tasks import Budget, TrainingConfig
from search_spaces import Architecture, SearchSpace


@dataclass(frozen=True)
class SupernetTraining:
    """Train the supernet of ``space`` on ``data`` up to ``budget``, continuing ``checkpoint`` if it exists."""

    task: str
    data: str
    space: SearchSpace
    budget: Budget
    training: TrainingConfig
    sandwich: int
    """Random paths per step besides the largest and the smallest (the sandwich rule)."""
    distill: bool
    """Smaller paths learn from the largest path's outputs (in-place distillation)."""
    checkpoint: str
    """Where the supernet's checkpoint is written (and continued from, when a killed run left one)."""
    largest_block: str | None = None
    """The block type of the sandwich's top path where a stage offers it (``None``: the heaviest)."""


@dataclass(frozen=True)
class SupernetTrained:
    """What supernet training reports: where its checkpoint is and what the training did."""

    checkpoint: str
    seconds: float
    steps: int
    details: dict[str, Any] = field(default_factory=dict)
    """Anything else the trainer reports (final loss, fingerprint), stored on the study as it is."""


@dataclass(frozen=True)
class Estimation:
    """Estimate ``archs`` (of trials ``trials``, in the same order) on the supernet in ``checkpoint``."""

    task: str
    data: str
    space: SearchSpace
    checkpoint: str
    trials: tuple[int, ...]
    archs: tuple[Architecture, ...]
    calibration_batches: int
    training: TrainingConfig
    cost_batch: int = 32
    cost_length: int | None = None
    optimizer: str = "adamw"
    constraints: tuple[Constraint, ...] = ()
    """The study's cost constraints: an architecture violating one is priced but not estimated."""

    @property
    def key(self) -> tuple[int, ...]:
        return self.trials


@dataclass(frozen=True)
class Estimated:
    """One architecture of an :class:`Estimation`: its cost, and its metrics unless a constraint refused it."""

    cost: dict[str, float]
    metrics: dict[str, float] | None
    """``None``: not estimated, a cost constraint refused it (the driver prunes the trial with the reason)."""


def run_estimation(estimate: EstimateFunction, request: Estimation) -> list[Estimated]:
    """Price every architecture of ``request`` with the cost model, and estimate those its constraints admit.

    Pricing runs here, on the worker, rather than in the driver: the cost model enumerates contraction
    plans per layer (about as long as estimating one architecture on a CPU), and thousands of
    architectures priced one after another in the driver would leave the workers idle.
    """
    from nas.cost import score

    costs = [
        score(arch, request.cost_batch, request.cost_length, optimizer=request.optimizer).objectives()  # type: ignore[arg-type]
        for arch in request.archs
    ]
    admitted = [i for i, cost in enumerate(costs) if all(c.satisfied_by(cost[c.name]) for c in request.constraints)]
    metrics: list[dict[str, float] | None] = [None] * len(costs)
    if admitted:
        subset = replace(
            request,
            trials=tuple(request.trials[i] for i in admitted),
            archs=tuple(request.archs[i] for i in admitted),
        )
        for index, values in zip(admitted, estimate(subset), strict=True):
            metrics[index] = values
    return [Estimated(cost, values) for cost, values in zip(costs, metrics, strict=True)]


TrainFunction = Callable[[SupernetTraining], SupernetTrained]
CheckFunction = Callable[[str, SearchSpace], None]
"""Raises (with the reason) unless the checkpoint at the path holds every architecture of the space."""
EstimateFunction = Callable[[Estimation], list[dict[str, float]]]
"""Returns one metrics dict per architecture, in order: what an ordinary trial of it would report."""


@dataclass(frozen=True)
class SupernetFunctions:
    """The functions a weight-sharing search runs on workers (default: the real supernet, :mod:`.functions`)."""

    train: TrainFunction
    estimate: EstimateFunction
    check: CheckFunction | None = None
    """Checks a checkpoint trained elsewhere before the search relies on it (``None``: stand-ins, no check)."""

    @classmethod
    def default(cls) -> SupernetFunctions:
        from nas.study.weight_sharing._functions import estimate_architectures, train_supernet_task
        from nas.supernet import check_checkpoint_space

        return cls(train=train_supernet_task, estimate=estimate_architectures, check=check_checkpoint_space)
