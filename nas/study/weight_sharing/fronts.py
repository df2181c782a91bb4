"""A weight-sharing study's two kinds of results, told apart: estimates and stand-alone confirmations.

Both are plain complete Optuna trials (so optuna-dashboard shows them), distinguished by their user
attributes: ``estimated_by: supernet`` on an estimate, ``confirms: <trial>`` (and ``estimate``, the
estimated values) on a confirmation. Fronts are taken within one kind only: an estimate and a
stand-alone accuracy are different measurements, and a front mixing them would let an optimistic
estimate hide a real result. The agreement between the two is the rank correlation over the
confirmed architectures, per task-metric objective.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.cost import COST_OBJECTIVES
from nas.pareto import kendall_tau, spearman_rho
from nas.study import attrs
from nas.study.config import StudyConfig

ESTIMATED, CONFIRMED = "estimated", "confirmed"
KINDS = (ESTIMATED, CONFIRMED)


def kind_of(trial: FrozenTrial) -> str | None:
    """``estimated``, ``confirmed`` or ``None`` (a trial of an ordinary study)."""
    if attrs.CONFIRMS in trial.user_attrs:
        return CONFIRMED
    if attrs.ESTIMATED_BY in trial.user_attrs:
        return ESTIMATED
    return None


def complete_of_kind(study: optuna.Study, kind: str) -> list[FrozenTrial]:
    """Complete trials of ``kind``, duplicates of an already evaluated architecture left out."""
    return [
        trial
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if kind_of(trial) == kind and attrs.DUPLICATE_OF not in trial.user_attrs and trial.values
    ]


@dataclass(frozen=True)
class Agreement:
    """How well the supernet's estimate of one objective ranks the confirmed architectures."""

    objective: str
    pairs: int
    kendall: float
    spearman: float

    def line(self) -> str:
        def shown(value: float) -> str:
            return "n/a" if math.isnan(value) else f"{value:+.3f}"

        return (
            f"{self.objective}: Kendall tau {shown(self.kendall)}, Spearman rho {shown(self.spearman)}"
            f" over {self.pairs} confirmed architecture(s)"
        )


def quality_objectives(config: StudyConfig) -> list[str]:
    """The objectives the supernet estimates (task metrics); cost fields are the cost model's either way."""
    return [name for name in config.objective_names if name not in COST_OBJECTIVES]


def agreement(study: optuna.Study, config: StudyConfig) -> list[Agreement]:
    """Rank correlation between estimate and stand-alone value, one per estimated objective."""
    confirmations = complete_of_kind(study, CONFIRMED)
    return [_agreement(name, config.objective_names.index(name), confirmations) for name in quality_objectives(config)]


def _agreement(name: str, index: int, confirmations: Iterable[FrozenTrial]) -> Agreement:
    pairs = []
    for trial in confirmations:
        estimate = trial.user_attrs.get(attrs.ESTIMATE, {}).get(name)
        measured = trial.values[index]
        if estimate is not None and math.isfinite(float(estimate)) and math.isfinite(measured):
            pairs.append((float(estimate), measured))
    estimates, measured = [p[0] for p in pairs], [p[1] for p in pairs]
    return Agreement(name, len(pairs), kendall_tau(estimates, measured), spearman_rho(estimates, measured))
