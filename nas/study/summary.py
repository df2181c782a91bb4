"""A study's state in numbers: trial counts by state, Pareto front size and hypervolume.

Shared by the live progress line, ``centaurus-nas status`` and the end-of-search report. The
hypervolume is shown as its share of the box between the reference point and the ideal point
(:func:`nas.pareto.normalised_hypervolume`); the raw volume multiplies units (1e19 for accuracy x
FLOPs x bytes) and stays available for tables. A front of fewer than two points has no trade-off
to show, so it comes with a warning that says which settings to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import optuna
from optuna.trial import TrialState

from nas.pareto import hypervolume, non_dominated_mask, normalised_hypervolume
from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.reference import REFERENCE_ATTR, StudyReference, study_reference


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
    """The raw dominated volume (units multiplied), None without a complete trial or a reference point."""
    share: float | None
    """The hypervolume over the box between the reference and ideal points (NaN when that box is empty)."""
    reference: StudyReference | None
    estimated: int | None = None
    """Weight-sharing studies: complete estimated trials (front and hypervolume are the confirmed ones')."""
    estimated_front_size: int | None = None

    @property
    def reference_declared(self) -> bool:
        return self.reference is not None and self.reference.declared

    def volume_text(self) -> str:
        """``hypervolume 0.42 of the box`` (the raw figure when the box is empty), or ``hypervolume n/a``."""
        if self.hypervolume is None:
            return "hypervolume n/a"
        if self.share is None or not math.isfinite(self.share):
            return f"hypervolume {self.hypervolume:.4g} (raw; the ideal box is empty)"
        return f"hypervolume {self.share:.2f} of the box"

    def line(self) -> str:
        estimated = ""
        if self.estimated is not None:
            estimated = f" | estimated {self.estimated} (front {self.estimated_front_size}) | confirmed"
        return (
            f"complete {self.complete} | running {self.running} | pruned {self.pruned} | failed {self.failed}"
            f"{estimated} | front {self.front_size} | {self.volume_text()}"
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
    reference = study_reference(config, study.user_attrs.get(REFERENCE_ATTR), values)
    volume = share = None
    if reference is not None and len(values):
        point = np.array([reference.values[name] for name in config.objective_names])
        volume = hypervolume(values, point, directions)
        share = normalised_hypervolume(values, point, directions)
    return StudyCounts(**counts, front_size=front, hypervolume=volume, share=share, reference=reference, **extra)


def front_warning(counts: StudyCounts, config: StudyConfig) -> str | None:
    """What to change when the study ended with fewer than 2 front points (None when it has a front to show, or
    while trials still run: the front may yet grow).

    One point (or none) shows no trade-off and makes the normalised hypervolume meaningless (a single
    point fills its own box). The usual causes are too few networks trained to the top rung in the time
    given; the message names the settings that change that, with their current values.
    """
    if counts.front_size >= 2 or counts.running:
        return None
    steps = "; a step budget such as 200steps trains as far on a busy machine" if config.training_budget.seconds else ""
    hints = [
        f"more trials (budget.trials, now {config.trials or 'unlimited'})",
        f"a longer budget.wall_time (now {f'{config.wall_time:.0f} s' if config.wall_time else 'unlimited'})",
        f"a smaller training budget per trial (training.budget, now {config.training_budget}{steps})",
    ]
    if config.fidelity.min_fraction < 1:
        hints.append(f"a lower first rung (fidelity.min_fraction, now {config.fidelity.min_fraction:.3g})")
    if counts.pruned:
        hints.append("looser constraints, if trials were pruned before training (see their reasons in trials.csv)")
    return (
        f"warning: the Pareto front has {counts.front_size} point(s) ({counts.complete} complete trial(s));"
        f" a front needs at least 2 to show a trade-off. Try {'; '.join(hints)}."
    )
