"""Which trials of a study to export: its Pareto front, given trial numbers, or the best by one objective.

Only complete trials are exported: they are the ones with told objective values (and, when the
study trains, metrics and weights). Trials that reused the results of an identical architecture
(``duplicate_of``) are left out of the front and of ``best``, so each architecture is exported once.
In a weight-sharing study only stand-alone confirmations are exported by ``--best`` and ``--pareto``: an
estimated trial has no trained weights of its own, and its quality is the supernet's estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.export._errors import ExportError
from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.trials import front_frame


def number_ranges(numbers: Sequence[int]) -> str:
    """``[0, 1, 2, 3, 5, 7, 8]`` -> ``0-3, 5, 7-8``: a short way to list the allowed trial numbers."""
    ordered = sorted(set(numbers))
    if not ordered:
        return "none"
    runs: list[str] = []
    start = previous = ordered[0]
    for number in [*ordered[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        runs.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(runs)


def _complete(study: optuna.Study) -> dict[int, FrozenTrial]:
    return {trial.number: trial for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}


def _require_complete(study: optuna.Study, config: StudyConfig) -> dict[int, FrozenTrial]:
    complete = _complete(study)
    if not complete:
        raise ExportError(f"study {config.name!r}: got no complete trial yet; allowed: a study with complete trials")
    return complete


def pareto_trials(study: optuna.Study, config: StudyConfig, objectives: list[str] | None = None) -> list[FrozenTrial]:
    """The Pareto-front trials over ``objectives`` (default: all of the study's), in the order of ``pareto``."""
    complete = _require_complete(study, config)
    try:
        front = front_frame(study, config, objectives)
    except StudyConfigError as error:  # an objective not in the study: name the export option
        raise ExportError(f"--objectives: {error}") from error
    return [complete[int(number)] for number in front["number"]]


def numbered_trials(study: optuna.Study, config: StudyConfig, numbers: Sequence[int]) -> list[FrozenTrial]:
    """The trials with these numbers; each must exist and be complete."""
    complete = _require_complete(study, config)
    every = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    allowed = f"a complete trial of study {config.name!r}: {number_ranges(list(complete))}"
    chosen: list[FrozenTrial] = []
    for number in numbers:
        if number not in every:
            raise ExportError(
                f"--trial: got {number}, which is not a trial of study {config.name!r}; allowed: {allowed}"
            )
        if number not in complete:
            trial = every[number]
            state = "interrupted" if trial.user_attrs.get(attrs.INTERRUPTED) else trial.state.name.lower()
            reason = trial.user_attrs.get(attrs.REASON)
            why = f" ({reason})" if reason else ""
            raise ExportError(f"--trial: got {number}, which is {state}{why}; allowed: {allowed}")
        if complete[number] not in chosen:
            chosen.append(complete[number])
    return chosen


def best_trial(study: optuna.Study, config: StudyConfig, objective: str) -> FrozenTrial:
    """The complete trial with the best value of ``objective`` in its direction.

    Ties are broken by the other objectives, in the study's order and directions, then by trial
    number: among equally good trials the one exported is never dominated by another of them
    (e.g. of several models at 100% CER, the one with the fewest training FLOPs).
    """
    names = config.objective_names
    if objective not in names:
        raise ExportError(
            f"--best: got {objective!r}, which is not an objective of study {config.name!r};"
            f" allowed: {', '.join(names)}"
        )
    complete = _require_complete(study, config)
    index = names.index(objective)
    sign = -1.0 if config.directions[index] == "maximize" else 1.0
    candidates = [
        trial
        for trial in complete.values()
        if attrs.DUPLICATE_OF not in trial.user_attrs and trial.values and math.isfinite(trial.values[index])
    ]
    if config.weight_sharing:
        candidates = [trial for trial in candidates if attrs.CONFIRMS in trial.user_attrs]
        if not candidates:
            raise ExportError(
                f"--best: study {config.name!r} has no confirmed trial (stand-alone retraining of an estimate) with"
                f" a finite {objective} yet; allowed: a weight-sharing study whose confirmations ran (resume it), or"
                " --trial N to export an estimated architecture's spec"
            )
    if not candidates:
        raise ExportError(f"--best: study {config.name!r} has no complete trial with a finite {objective}")
    signs = [-1.0 if direction == "maximize" else 1.0 for direction in config.directions]
    others = [i for i in range(len(names)) if i != index]

    def rank(trial: FrozenTrial) -> tuple[float, ...]:
        tie_breaks = (signs[i] * trial.values[i] if math.isfinite(trial.values[i]) else math.inf for i in others)
        return (sign * trial.values[index], *tie_breaks, trial.number)

    return min(candidates, key=rank)
