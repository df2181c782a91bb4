"""A study's state in numbers: trial counts by state, Pareto front size and hypervolume.

Shared by the live progress line, ``centaurus-nas status`` and the end-of-search report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import optuna
from optuna.trial import TrialState

from nas.pareto import hypervolume, non_dominated_mask, reference_point
from nas.study import attrs
from nas.study.config import StudyConfig


@dataclass(frozen=True)
class StudyCounts:
    complete: int
    pruned: int
    failed: int
    running: int
    waiting: int
    interrupted: int
    front_size: int
    hypervolume: float | None
    reference: tuple[float, ...] | None
    reference_declared: bool
    estimated: int | None = None
    """Weight-sharing studies: complete estimated trials (front and hypervolume are the confirmed ones')."""
    estimated_front_size: int | None = None

    def line(self) -> str:
        volume = "n/a" if self.hypervolume is None else f"{self.hypervolume:.6g}"
        source = "declared" if self.reference_declared else "auto"
        estimated = ""
        if self.estimated is not None:
            estimated = f" | estimated {self.estimated} (front {self.estimated_front_size}) | confirmed"
        return (
            f"complete {self.complete} | running {self.running} | pruned {self.pruned} | failed {self.failed}"
            f"{estimated} | front {self.front_size} | hypervolume {volume} ({source} reference)"
        )


def complete_values(study: optuna.Study, kind: str | None = None) -> np.ndarray:
    """Objective values of the complete trials; with ``kind``, only the weight-sharing trials of that kind
    (``estimated`` or ``confirmed``), duplicates left out."""
    if kind is None:
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    else:
        from nas.study.weight_sharing.fronts import complete_of_kind

        trials = complete_of_kind(study, kind)
    if not trials:
        return np.zeros((0, len(study.directions)))
    return np.array([trial.values for trial in trials], dtype=float)


def state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials by state; trials a dead driver left behind count as ``interrupted``, not ``failed``."""
    counts = dict.fromkeys(("complete", "pruned", "failed", "running", "waiting", "interrupted"), 0)
    names = {
        TrialState.COMPLETE: "complete",
        TrialState.PRUNED: "pruned",
        TrialState.FAIL: "failed",
        TrialState.RUNNING: "running",
        TrialState.WAITING: "waiting",
    }
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(attrs.INTERRUPTED):
            counts["interrupted"] += 1
        elif trial.state in names:
            counts[names[trial.state]] += 1
    return counts


def study_counts(study: optuna.Study, config: StudyConfig) -> StudyCounts:
    counts = state_counts(study)
    directions = config.directions
    extra: dict[str, int] = {}
    if config.weight_sharing:  # the front that counts is the stand-alone one; estimates are counted beside it
        estimated = complete_values(study, "estimated")
        extra["estimated"] = len(estimated)
        extra["estimated_front_size"] = int(non_dominated_mask(estimated, directions).sum()) if len(estimated) else 0
        values = complete_values(study, "confirmed")
    else:
        values = complete_values(study)
    front = int(non_dominated_mask(values, directions).sum()) if len(values) else 0
    reference = None
    if config.reference is not None:
        reference = tuple(config.reference[name] for name in config.objective_names)
    elif len(values):
        reference = tuple(float(x) for x in reference_point(values, directions))
    volume = hypervolume(values, np.array(reference), directions) if reference is not None and len(values) else None
    return StudyCounts(
        **counts,
        front_size=front,
        hypervolume=volume,
        reference=reference,
        reference_declared=config.reference is not None,
        **extra,
    )
