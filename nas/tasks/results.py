"""What a training run and a whole task run return: status, metrics and the learning curve.

Plain, JSON-ready dataclasses, because the search engine stores them as trial attributes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["completed", "failed"]


@dataclass(frozen=True)
class CurvePoint:
    """The mean training loss over the steps since the previous point, and where in the budget it was."""

    step: int
    epoch: float
    seconds: float
    progress: float
    train_loss: float
    lr_factor: float


@dataclass(frozen=True)
class TrainingRun:
    """The outcome of ``Task.fit``: a failed run says why (``reason``) and keeps the curve up to the failure.

    A run that continued an earlier one (from a checkpoint) counts its steps, epochs, seconds and
    curve from the network's first step; ``previous_seconds`` of its ``seconds`` were the earlier runs'.
    """

    status: Status
    reason: str | None
    steps: int
    epochs: float
    seconds: float
    curve: tuple[CurvePoint, ...]
    skipped_batches: int = 0
    previous_seconds: float = 0.0

    @property
    def run_seconds(self) -> float:
        """The training seconds of this run alone (what it cost)."""
        return self.seconds - self.previous_seconds

    @property
    def final_loss(self) -> float | None:
        return self.curve[-1].train_loss if self.curve else None


@dataclass(frozen=True)
class TaskResult:
    """One architecture trained and evaluated: everything a trial records."""

    task: str
    status: Status
    reason: str | None
    metrics: dict[str, float]
    training: TrainingRun
    eval_seconds: float
    parameters: int
    seed: int
    budget: str
    config: dict[str, object] = field(default_factory=dict)
    weights: str | None = None
    """Where the trained ``state_dict`` was saved, when the caller asked for it."""
    skipped_files: list[list[str]] = field(default_factory=list)
    """``[path, reason]`` of every audio file the task's datasets skipped as unusable (so far, in this process)."""
    checkpoint: str | None = None
    """Where the run left a checkpoint to continue from, when the caller asked for one."""
    warnings: list[str] = field(default_factory=list)
    """What went differently from the request without failing the run (a checkpoint that could not be continued)."""

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["training"]["curve"] = [asdict(point) for point in self.training.curve]
        return data
