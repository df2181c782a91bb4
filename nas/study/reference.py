"""The study's hypervolume reference point: the config's, else one derived once from the space's cost range.

A reference point derived from the trials moves whenever the front does, and one copied from another
study can be 100x larger than the networks sampled (the box is then nearly empty and every share
reads 0.00). So when the config gives none, the search derives one before its first trial:

* a cost objective: the cost model's value for the space's extreme architectures (most channels,
  states and depth, least stride, least groups, widest bottleneck, and the opposite extremes; one
  per block type and a few with seeded random blocks per stage), worst over them, pushed out by
  ``MARGIN`` and capped by the config's constraint on that field (no trained network lies beyond it);
* a task metric with a worst value (``Task.worst_values``: accuracy 0, error rate 1): that value.

That is about 25 cost-model scores (a few seconds at most) and does not depend on any trial, so it is
stored on the study (user attribute ``reference_point``) and ``status``, ``pareto``, ``resume`` and the
report all read the same point. A metric without a worst value (a loss) takes the trials' nadir pushed
out by 10% of its range, as before.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from nas.cost import COST_OBJECTIVES, format_quantity, score
from nas.pareto import ParetoError, reference_point
from nas.study.config import StudyConfig
from nas.tasks import TASKS
from search_spaces import Architecture, SearchSpace

REFERENCE_ATTR = "reference_point"
"""Study user attribute: ``{objective: value}`` of the coordinates derived from the space (not the trials)."""
MARGIN = 0.1
"""How far past the worst extreme architecture a cost coordinate lies, relative to that cost."""
MIXES = 8
"""Extreme architectures with random blocks per stage, besides one per block type (each costs one score)."""

_LARGEST = {"channels": max, "num_states": max, "depth": max, "bottleneck_ratio": max, "stride": min, "groups": min}


@dataclass(frozen=True)
class StudyReference:
    """A reference point and where each of its coordinates came from."""

    values: dict[str, float]
    origin: str
    """``config``, ``space`` (every coordinate derived from the space), ``space and trials`` or ``trials``."""

    @property
    def declared(self) -> bool:
        return self.origin == "config"

    def describe(self) -> str:
        """One line for status, reports and plots, so nobody compares hypervolumes taken at different points."""
        shown = ", ".join(f"{name} = {format_quantity(name, value)}" for name, value in self.values.items())
        origins = {
            "config": "declared in the config",
            "space": "derived from the space's cost range",
            "space and trials": "derived from the space's cost range (metrics without a worst value: the trials)",
            "trials": "derived from the trials (nadir of the front pushed out by 10% of its range)",
        }
        return f"reference point {origins[self.origin]}: {shown}"


class _Extreme:
    """Answers ``suggest_categorical`` with one extreme of every size: the space's largest (or smallest) network
    with ``block`` in every stage that offers it, or blocks drawn from ``rng`` (a mix) when ``block`` is None."""

    def __init__(self, block: str | None, largest: bool, rng: random.Random | None = None) -> None:
        self._block, self._largest, self._rng = block, largest, rng or random.Random(0)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        field = name.rsplit(".", 1)[-1]
        if field == "block":
            if self._block is None:
                return self._rng.choice(list(choices))
            return self._block if self._block in choices else choices[0]
        if field == "state_blocks":  # no block-diagonal structure: every state couples every channel
            return None if None in choices else choices[0]
        pick = _LARGEST.get(field)
        numbers = [c for c in choices if isinstance(c, int | float) and not isinstance(c, bool)]
        if pick is None or not numbers:
            return choices[0]
        if not self._largest:
            pick = max if pick is min else min
        return pick(numbers)


def extreme_architectures(space: SearchSpace, mixes: int = MIXES) -> list[Architecture]:
    """Per block type the space offers, its largest and smallest architecture; then ``mixes`` largest and
    smallest ones with seeded random blocks per stage (a stage's most expensive block may differ from the
    next one's). Duplicates dropped."""
    blocks = dict.fromkeys(block for stage in space.stages for block in stage.block)
    extremes = [_Extreme(block, largest) for block in blocks for largest in (True, False)]
    rng = random.Random(0)
    extremes += [_Extreme(None, largest, rng) for _ in range(mixes) for largest in (True, False)]
    found: dict[str, Architecture] = {}
    for extreme in extremes:
        arch = space.sample(extreme)
        found.setdefault(arch.id, arch)
    return list(found.values())


def space_reference(config: StudyConfig) -> dict[str, float]:
    """The coordinates of the reference point that the space and the task determine (see the module docstring)."""
    directions = dict(zip(config.objective_names, config.directions, strict=True))
    worst = TASKS[config.task].worst_values
    result: dict[str, float] = {name: float(worst[name]) for name in directions if name in worst}
    costs = [name for name in directions if name in COST_OBJECTIVES]
    if not costs:
        return result
    reports = [
        score(arch, config.cost.batch, config.cost.length, optimizer=config.cost.optimizer).objectives()  # type: ignore[arg-type]
        for arch in extreme_architectures(config.space)
    ]
    for name in costs:
        values = [report[name] for report in reports]
        if directions[name] == "minimize":
            value = max(values)
            caps = [c.limit for c in config.constraints if c.name == name and c.operator == "<="]
            result[name] = min([value, *caps]) * (1 + MARGIN)
        else:
            value = min(values)
            floors = [c.limit for c in config.constraints if c.name == name and c.operator == ">="]
            result[name] = max([value, *floors]) * (1 - MARGIN)
    return result


def ensure_reference(study: optuna.Study, config: StudyConfig) -> None:
    """Derive and store the space's reference point on ``study`` once (a resumed study keeps its own)."""
    if config.reference is None and REFERENCE_ATTR not in study.user_attrs:
        study.set_user_attr(REFERENCE_ATTR, space_reference(config))


def study_reference(
    config: StudyConfig, stored: Mapping[str, float] | None, values: np.ndarray
) -> StudyReference | None:
    """The point every view of a study uses: the config's, else the stored space coordinates completed from
    ``values`` (the complete trials' objectives, in the config's order); None when nothing determines it."""
    names = config.objective_names
    if config.reference is not None:
        return StudyReference({name: float(config.reference[name]) for name in names}, "config")
    known = {name: float(stored[name]) for name in names if stored and name in stored}
    if len(known) == len(names):
        return StudyReference(known, "space")
    if len(values) == 0:
        return None
    try:
        derived = reference_point(values, config.directions)
    except ParetoError:
        return None
    point = {name: known.get(name, float(value)) for name, value in zip(names, derived, strict=True)}
    return StudyReference(point, "space and trials" if known else "trials")
