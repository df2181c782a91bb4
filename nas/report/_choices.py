"""Which value of every searched per-stage field the trained networks use, on the front and off it.

A front made of ``group`` stages says little until one sees which groups, widths and state counts those
stages have. For every field a study searched (block always, then channels, states, groups, bottleneck,
state blocks, stride, depth, ... wherever the space offers two or more choices, or the trials differ)
and every value of it, this counts per stage how many front trials and how many other trained trials
use it. A block-specific field (``groups`` for ``group``, ``bottleneck_ratio`` for ``neck``,
``state_blocks`` for ``s5``) is counted among the trials whose stage has that block, since it does not
exist for the others. Where the space does not offer a value at a stage, the share is NaN (drawn blank),
which tells "never possible" apart from "possible, never chosen" (0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from centaurus import MODES
from search_spaces import SearchSpace
from search_spaces.choices import StageChoices

FIELDS: dict[str, str] = {
    "block": "block",
    "channels": "channels",
    "num_states": "states",
    "groups": "groups",
    "bottleneck_ratio": "bottleneck",
    "state_blocks": "state blocks",
    "stride": "stride",
    "depth": "depth",
    "residual": "residual",
    "norm": "norm",
    "activation": "activation",
}
"""Per-stage fields of a spec, in the order the view lists them, with their short labels."""
CONDITIONAL: dict[str, str] = {"groups": "group", "bottleneck_ratio": "neck", "state_blocks": "s5"}
"""Block-specific fields and the block that has them."""
COLUMNS = ["stage", "field", "value", "label", "group", "count", "total", "share"]


def _value_text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _sort_key(field: str, text: str) -> tuple[int, float, str]:
    if field == "block":
        order = MODES.index(text) if text in MODES else len(MODES)
        return (order, 0.0, text)
    try:
        return (0, float(text), text)
    except ValueError:
        return (1 if text != "none" else -1, 0.0, text)


def _stage_value(stage: Mapping[str, Any], field: str) -> tuple[bool, str]:
    """(does the field apply to this stage, its value as text); defaults as the spec's, ``none`` when unset."""
    if field in CONDITIONAL:
        if stage.get("block") != CONDITIONAL[field]:
            return False, ""
        return True, _value_text(stage.get(field))
    defaults = {"depth": 1, "stride": 1, "residual": True, "norm": "layer", "activation": "gelu"}
    return True, _value_text(stage.get(field, defaults.get(field)))


def _offered(choices: StageChoices, field: str) -> set[str]:
    return {_value_text(value) for value in getattr(choices, field)}


def searched_fields(space: SearchSpace | None, specs: Mapping[int, Sequence[Mapping[str, Any]]]) -> list[str]:
    """``block``, then every field with two or more choices at some stage of ``space`` or two or more
    values at some stage among ``specs`` (a space read back from an older study may lack a field)."""
    result = ["block"]
    for field in FIELDS:
        if field == "block":
            continue
        offered = space is not None and any(len(_offered(choices, field)) > 1 for choices in space.stages)
        seen: dict[int, set[str]] = {}
        for stages in specs.values():
            for index, stage in enumerate(stages):
                applies, text = _stage_value(stage, field)
                if applies:
                    seen.setdefault(index, set()).add(text)
        if offered or any(len(values) > 1 for values in seen.values()):
            result.append(field)
    return result


def choice_usage(
    groups: Mapping[str, Sequence[int]],
    specs: Mapping[int, Sequence[Mapping[str, Any]]],
    space: SearchSpace | None = None,
) -> pd.DataFrame:
    """One row per (stage, field, value, group): how many trials of the group use that value at that stage.

    ``groups`` maps a group name (``front``, ``others``) to its trial numbers; ``specs`` maps trial numbers
    to their stages (the ``stages`` of ``Architecture.to_dict()``); trials without a spec are not counted.
    ``total`` is the number of the group's trials for which the field exists at that stage and ``share``
    is ``count / total`` (NaN where nothing is counted, or where ``space`` does not offer the value there).
    """
    fields = searched_fields(space, specs)
    depth = max((len(stages) for stages in specs.values()), default=0)
    counts: dict[tuple[int, str, str, str], int] = {}
    totals: dict[tuple[int, str, str], int] = {}
    values: dict[str, set[str]] = {field: set() for field in fields}
    for group, numbers in groups.items():
        for number in numbers:
            stages = specs.get(int(number))
            if stages is None:
                continue
            for index, stage in enumerate(stages):
                for field in fields:
                    applies, text = _stage_value(stage, field)
                    if not applies:
                        continue
                    values[field].add(text)
                    counts[(index, field, text, group)] = counts.get((index, field, text, group), 0) + 1
                    totals[(index, field, group)] = totals.get((index, field, group), 0) + 1
    if space is not None and len(space.stages) == depth:
        for field in fields:
            for choices in space.stages:
                values[field] |= _offered(choices, field)
    rows = []
    for field in fields:
        for text in sorted(values[field], key=lambda value: _sort_key(field, value)):
            label = f"{FIELDS[field]}: {text}"
            for position in range(depth):
                possible = (
                    space is None or len(space.stages) != depth or text in _offered(space.stages[position], field)
                )
                for group in groups:
                    count = counts.get((position, field, text, group), 0)
                    total = totals.get((position, field, group), 0)
                    share = count / total if total and (possible or count) else math.nan
                    rows.append((position, field, text, label, group, count, total, share))
    return pd.DataFrame(rows, columns=COLUMNS)
