"""What a finished run leaves on its trial: the rung record, and at the top rung the metrics, training
summary, learning curve and weights (the attribute names are in :mod:`nas.study.attrs`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from nas.study import attrs
from nas.study.progress import SearchProgress
from nas.tasks import TaskResult


def objective_values(
    names: Sequence[str], cost: Mapping[str, float], metrics: Mapping[str, float], train_seconds: float
) -> list[float]:
    """The study's objectives, in order, from the cost model, the task's metrics and the training time."""
    values = {**cost, **metrics, "train_seconds": train_seconds}
    return [float(values.get(name, float("nan"))) for name in names]


class RungRecords:
    """Each trial's rung records (``attrs.RUNGS``), kept here so that a new record needs no read of storage."""

    def __init__(self, fractions: Sequence[float]) -> None:
        self._fractions = tuple(fractions)
        self._by_trial: dict[int, list[dict[str, Any]]] = {}

    def restore(self, number: int, records: list[dict[str, Any]]) -> None:
        """A re-run of an interrupted trial continues with the records its original finished."""
        self._by_trial[number] = records

    def checkpoints(self, number: int) -> list[str]:
        """The checkpoints trial ``number``'s runs left (its own, and those a re-run carried over)."""
        return [record["checkpoint"] for record in self._by_trial.get(number, []) if record.get("checkpoint")]

    def add(self, trial: optuna.Trial, rung: int, result: TaskResult, objectives: list[float]) -> None:
        """Record ``result`` as trial ``trial``'s run at ``rung``, and its training seconds over all rungs (each
        rung's own run: a promotion continues the rung below)."""
        records = self._by_trial.setdefault(trial.number, [])
        record = {
            "rung": rung,
            "fraction": self._fractions[rung],
            "budget": result.budget,
            "objectives": objectives,
            "metrics": result.metrics,
            "train_seconds": result.training.run_seconds,
            "run": uuid.uuid4().hex[:12],  # this training run (a re-run that keeps the record keeps its id)
        }
        records.append(record | ({"checkpoint": result.checkpoint} if result.checkpoint else {}))
        trial.set_user_attr(attrs.RUNGS, records)
        trial.set_user_attr(attrs.TRAIN_SECONDS, sum(record["train_seconds"] for record in records))


def record_warnings(trial: optuna.Trial, rung: int, result: TaskResult) -> None:
    """What went differently in a run without failing it (a checkpoint that could not be continued)."""
    if result.warnings:
        earlier = list(trial.user_attrs.get(attrs.WARNINGS, []))
        trial.set_user_attr(attrs.WARNINGS, earlier + [{"rung": rung, "warning": text} for text in result.warnings])


def record_full_fidelity(trial: optuna.Trial, result: TaskResult) -> None:
    """The top rung's results on the trial: metrics, training summary, learning curve, weights."""
    training = result.training
    trial.set_user_attr(attrs.METRICS, result.metrics)
    trial.set_user_attr(
        attrs.TRAINING,
        {"steps": training.steps, "epochs": training.epochs, "seconds": training.seconds, "budget": result.budget},
    )
    trial.set_user_attr(
        attrs.CURVE, [[point.step, round(point.seconds, 3), point.train_loss] for point in training.curve]
    )
    if result.weights:
        trial.set_user_attr(attrs.WEIGHTS, result.weights)


class SkippedFiles:
    """Audio files that trials reported skipped as unusable: each is recorded on its trial, and shown once."""

    def __init__(self, progress: SearchProgress) -> None:
        self._progress = progress
        self._seen: set[str] = set()

    def record(self, trial: optuna.Trial, skipped: list[list[str]]) -> None:
        if not skipped:
            return
        trial.set_user_attr(attrs.SKIPPED_FILES, skipped)
        new = [entry for entry in skipped if entry[0] not in self._seen]
        self._seen.update(entry[0] for entry in skipped)
        if new:
            shown = "; ".join(f"{path} ({reason})" for path, reason in new[:5])
            self._progress.event(f"trial {trial.number}: skipped {len(new)} unusable audio file(s): {shown}")
