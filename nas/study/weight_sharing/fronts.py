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
from collections.abc import Sequence
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
    """How well the supernet's estimate of one objective ranks the confirmed architectures, next to how well
    their parameter count alone ranks them (a proxy that costs nothing: an estimate worth its supernet beats it).
    """

    objective: str
    pairs: int
    kendall: float
    spearman: float
    parameters_kendall: float = math.nan
    parameters_spearman: float = math.nan

    def line(self) -> str:
        def shown(value: float) -> str:
            return "n/a" if math.isnan(value) else f"{value:+.3f}"

        text = (
            f"{self.objective}: Kendall tau {shown(self.kendall)}, Spearman rho {shown(self.spearman)}"
            f" over {self.pairs} confirmed architecture(s)"
        )
        if math.isnan(self.parameters_kendall) and math.isnan(self.parameters_spearman):
            return text
        return (
            f"{text}; parameter count alone: Kendall tau {shown(self.parameters_kendall)},"
            f" Spearman rho {shown(self.parameters_spearman)}"
        )


def quality_objectives(config: StudyConfig) -> list[str]:
    """The objectives the supernet estimates (task metrics); cost fields are the cost model's either way."""
    return [name for name in config.objective_names if name not in COST_OBJECTIVES]


def rank_agreement(
    objective: str,
    estimates: Sequence[float],
    measured: Sequence[float],
    parameters: Sequence[float],
    direction: str,
) -> Agreement:
    """The :class:`Agreement` of ``objective`` over confirmed architectures given as parallel sequences (an
    architecture whose estimate or stand-alone value is missing or not finite is left out; one without a
    parameter count is left out of the proxy's correlation only).

    The parameter-count proxy says "bigger is better": parameters rank upwards for a maximised objective and
    downwards for a minimised one, so its correlation reads like the estimate's (positive: ranks alike)."""
    sign = 1.0 if direction == "maximize" else -1.0
    pairs, proxy = [], []
    for estimate, value, count in zip(estimates, measured, parameters, strict=True):
        if not (_finite(estimate) and _finite(value)):
            continue
        pairs.append((float(estimate), float(value)))
        if _finite(count):
            proxy.append((sign * float(count), float(value)))
    first, second = [p[0] for p in pairs], [p[1] for p in pairs]
    counts, values = [p[0] for p in proxy], [p[1] for p in proxy]
    return Agreement(
        objective,
        len(pairs),
        kendall_tau(first, second),
        spearman_rho(first, second),
        kendall_tau(counts, values),
        spearman_rho(counts, values),
    )


def _finite(value: object) -> bool:
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def agreement(study: optuna.Study, config: StudyConfig) -> list[Agreement]:
    """Rank correlation between estimate and stand-alone value, one per estimated objective."""
    confirmations = complete_of_kind(study, CONFIRMED)
    directions = dict(zip(config.objective_names, config.directions, strict=True))
    parameters = [trial.user_attrs.get(attrs.COST, {}).get("params", math.nan) for trial in confirmations]
    results = []
    for name in quality_objectives(config):
        index = config.objective_names.index(name)
        estimates = [trial.user_attrs.get(attrs.ESTIMATE, {}).get(name, math.nan) for trial in confirmations]
        measured = [trial.values[index] for trial in confirmations]
        results.append(rank_agreement(name, estimates, measured, parameters, directions[name]))
    return results
