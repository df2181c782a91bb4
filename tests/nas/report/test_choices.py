"""The per-stage choices view's numbers on specs chosen by hand: counts, block-specific fields, blanks."""

from __future__ import annotations

import math

import pandas as pd

from nas.report._choices import choice_usage, searched_fields
from search_spaces import SearchSpace
from tests.support.studies import kws_space

SPACE = kws_space(
    "choices",
    {"block": ["dws", "group"], "channels": [8, 16], "num_states": [4], "groups": [2, 4], "stride": [2, 4]},
    {"block": ["s5", "neck"], "channels": [16], "num_states": [8], "bottleneck_ratio": [0.25, 0.5], "depth": [1, 2]},
)


def _stages(first: dict, second: dict) -> list[dict]:
    return [{"channels": 8, "num_states": 4, "stride": 2, **first}, {"channels": 16, "num_states": 8, **second}]


SPECS = {
    0: _stages({"block": "group", "groups": 4}, {"block": "neck", "bottleneck_ratio": 0.5, "depth": 2}),
    1: _stages({"block": "group", "groups": 2, "channels": 16}, {"block": "s5"}),
    2: _stages({"block": "dws", "stride": 4}, {"block": "neck", "bottleneck_ratio": 0.25}),
    3: _stages({"block": "dws"}, {"block": "s5", "depth": 2}),
}


def _cell(usage: pd.DataFrame, stage: int, field: str, value: str, group: str) -> tuple[int, int, float]:
    (row,) = usage[
        (usage["stage"] == stage) & (usage["field"] == field) & (usage["value"] == value) & (usage["group"] == group)
    ].itertuples()
    return int(row.count), int(row.total), float(row.share)


def test_every_searched_field_and_only_those() -> None:
    space = SearchSpace.from_dict(SPACE)
    fields = searched_fields(space, SPECS)
    # num_states has one choice everywhere; state_blocks, residual, norm and activation are not searched
    assert fields == ["block", "channels", "groups", "bottleneck_ratio", "stride", "depth"]


def test_counts_shares_and_block_specific_fields() -> None:
    usage = choice_usage({"front": [0, 1], "others": [2, 3]}, SPECS, SearchSpace.from_dict(SPACE))
    assert _cell(usage, 0, "block", "group", "front") == (2, 2, 1.0)
    assert _cell(usage, 0, "block", "group", "others") == (0, 2, 0.0)  # offered, never chosen: 0, drawn
    assert _cell(usage, 0, "channels", "16", "front") == (1, 2, 0.5)
    # groups exists only where the stage is a group block: counted among those two front trials, none of the others
    assert _cell(usage, 0, "groups", "4", "front") == (1, 2, 0.5)
    count, total, share = _cell(usage, 0, "groups", "4", "others")
    assert (count, total) == (0, 0) and math.isnan(share)
    assert _cell(usage, 1, "bottleneck_ratio", "0.25", "others") == (1, 1, 1.0)  # one neck stage among the others
    assert _cell(usage, 1, "depth", "2", "others") == (1, 2, 0.5)
    assert _cell(usage, 0, "stride", "4", "others") == (1, 2, 0.5)
    # not offered at that stage: blank (NaN), even though the group has trials there
    count, total, share = _cell(usage, 1, "block", "dws", "front")
    assert (count, total) == (0, 2) and math.isnan(share)
    count, total, share = _cell(usage, 1, "channels", "8", "front")
    assert count == 0 and math.isnan(share)
    assert set(usage["label"]) >= {"block: group", "groups: 4", "bottleneck: 0.25", "stride: 4", "depth: 2"}


def test_without_a_space_the_values_seen_are_shown() -> None:
    usage = choice_usage({"front": [0], "others": [1, 2, 3]}, SPECS)
    assert "num_states" not in set(usage["field"])  # the same everywhere: nothing was searched
    assert _cell(usage, 1, "block", "s5", "others") == (2, 3, 2 / 3)
    assert _cell(usage, 0, "groups", "2", "others") == (1, 1, 1.0)
    assert choice_usage({"front": [], "others": []}, {}).empty
