"""What the driver asks a backend to run, and what comes back: typed from the driver to the worker and back.

A :class:`TrialRequest` is one run of one trial at one rung; a run lost with its worker is asked
again as the next ``attempt``. A :class:`TrialResult` is what a backend returns for a request:
the task's result (a completed or a failed training), or why there is none: the run raised (the
trial fails with that reason) or its worker or node died (the driver may retry it). Both are
frozen dataclasses of plain values, dataclasses and specs, so they pickle across processes and
nodes unchanged (Ray sends them by value; every node has this package installed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nas.tasks import Budget, TaskResult, TrainingConfig
from search_spaces import Architecture


@dataclass(frozen=True)
class TrialRequest:
    """One run of trial ``trial`` at rung ``rung``: train ``arch`` on ``data`` up to ``budget``."""

    trial: int
    rung: int
    attempt: int
    task: str
    data: str
    arch: Architecture
    budget: Budget
    """This rung's budget, counted from the network's first step (a promotion continues to it)."""
    schedule: Budget
    """The top rung's budget: the learning-rate schedule spans it, whichever rung this is."""
    training: TrainingConfig
    weights_path: str | None = None
    """Where to save the trained weights (the top rung, when the study keeps them)."""
    resume_from: str | None = None
    """The checkpoint of the rung below to continue from (a promotion); ``None``: from step 0."""
    checkpoint_to: str | None = None
    """Where to leave this rung's checkpoint for a promotion (every rung below the top)."""
    memory_bytes: int | None = None
    """Host memory the run reserves where it is placed (CPU trials on Ray); ``None``: no reservation."""
    task_module: str | None = None
    """The module that defines the task (its ``Task`` class's): a worker process that has not registered the
    task imports it first, so a task added outside the package trains on Ray workers too."""

    @property
    def key(self) -> tuple[int, int, int]:
        """``(trial, rung, attempt)``: unique among the runs of one driver."""
        return (self.trial, self.rung, self.attempt)


@dataclass(frozen=True)
class TrialResult:
    """How the run of ``request`` ended: exactly one of ``task``, ``error`` and ``lost`` is set."""

    request: TrialRequest
    task: TaskResult | None = None
    """The task's result: training completed (metrics evaluated) or failed (with its reason)."""
    error: str | None = None
    """The run raised: ``Type: headline``; the trial fails with it (retrying would raise again)."""
    lost: str | None = None
    """The run's worker or node died (``Type: headline``): the driver retries it up to ``retries`` times."""
    out_of_memory: bool = False
    """Lost to a memory monitor's kill (``lost`` is set): retried only with more memory reserved."""


TrialFunction = Callable[[TrialRequest], TaskResult]
"""What a worker runs for a request: :func:`nas.study.worker.run_trial` trains and evaluates;
tests and benchmarks swap in functions that sleep or return at once to time the engine."""


def describe_exception(error: BaseException, limit: int = 500) -> str:
    """``Type: first line`` of an exception raised by a run: the headline, not a drawing of a folder layout."""
    message = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {message[:limit]}"
