"""Search spaces as config data: YAML/JSON loading, round-trips, and every construction-time check."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from search_spaces import InputSpec, OutputSpec, SearchSpace, SpecError, StageChoices
from tests.search_spaces.examples import small_space

EXAMPLE_YAML = """
name: kws-small
task: kws
input: {sample_rate: 16000, channels: 1, length: 16000}
output: {size: 35}
shared: [norm, activation]
stages:
  - {block: [dws, s5, neck, full, group], channels: [16, 32], num_states: [8, 16], groups: [2, 4],
     bottleneck_ratio: [0.25, 0.5], stride: [4], depth: [1], norm: [layer], activation: [gelu]}
  - {block: [s5, full], channels: 64, num_states: [16, 32], state_blocks: [null, 4], stride: [2, 4],
     norm: layer, activation: gelu}
"""


def test_yaml_config_with_scalars_for_one_element_lists() -> None:
    space = SearchSpace.from_yaml(EXAMPLE_YAML)
    assert space.name == "kws-small" and space.output == OutputSpec(35)
    assert space.shared == ("norm", "activation")
    assert space.stages[0].bottleneck_ratio == (0.25, 0.5)
    assert space.stages[1].channels == (64,) and space.stages[1].state_blocks == (None, 4)
    # stage 0: 2 channels x 2 states x (dws 1 + s5 1 + neck 2 + full 1 + group 2) = 28
    # stage 1: 2 states x (s5: 2 state blocks + full: 1) x 2 strides = 12
    assert space.size() == 28 * 12 == len(list(space.enumerate()))


def test_space_round_trips_through_dict_and_yaml() -> None:
    space = SearchSpace.from_yaml(EXAMPLE_YAML)
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert SearchSpace.from_yaml(space.to_yaml()) == space
    data = space.to_dict()
    assert data["stages"][1]["channels"] == 64  # one choice is written as a scalar
    assert "groups" not in data["stages"][1] and "state_blocks" not in data["stages"][0]


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_and_load(tmp_path: Path, suffix: str) -> None:
    space = small_space()
    assert SearchSpace.load(space.save(tmp_path / f"space{suffix}")) == space


def test_shared_order_does_not_matter() -> None:
    a = SearchSpace.from_yaml(EXAMPLE_YAML)
    b = dataclasses.replace(a, shared=("activation", "norm"))
    assert a == b and b.shared == ("norm", "activation")


def test_integer_ratio_choices_are_stored_as_floats() -> None:
    choices = StageChoices(block=("neck",), channels=(8,), num_states=(4,), bottleneck_ratio=(1, 0.5))
    assert choices.bottleneck_ratio == (1.0, 0.5) and isinstance(choices.bottleneck_ratio[0], float)


def _data(**changes: Any) -> dict[str, Any]:
    """small_space() as config data, with top-level keys (or stage 1 fields, as s1=...) changed."""
    data = small_space().to_dict()
    stage_changes = changes.pop("s1", None)
    data.update(changes)
    if stage_changes is not None:
        data["stages"][1] = {**data["stages"][1], **stage_changes}
    return {key: value for key, value in data.items() if value is not None}


CONFIG_ERRORS: list[tuple[Any, str]] = [
    # keys
    (_data(extra=1), r"^space: got unknown key 'extra'; allowed: the keys name, task, input, output, shared, stages$"),
    (_data(name=None), r"^space: got no 'name'; allowed: a mapping with the required keys name, task, output, stages$"),
    (
        _data(s1={"group": [2]}),
        r"^stages\[1\]: got unknown key 'group' \(did you mean 'groups'\?\); allowed: the keys block, channels, num_states,",
    ),
    (_data(stages=[{"block": "dws", "channels": 8}]), r"^stages\[0\]: got no 'num_states'"),
    (_data(stages={"block": "dws"}), r"^stages: got dict .*; allowed: a list of stage mappings$"),
    (_data(input={"length": 16, "rate": 16}), r"^input: got unknown key 'rate'"),
    (_data(shared=3), r"^shared: got 3; allowed: a list of field names$"),
    # the space itself
    (_data(name=""), r"^name: got ''; allowed: a non-empty string$"),
    (_data(task="vad"), r"^task: got 'vad'; allowed: kws, denoise, asr$"),
    (_data(output={"size": 1}), r"^output\.size: got 1; allowed: at least 2 classes for kws$"),
    (_data(stages=[]), r"^stages: got \[\]; allowed: a non-empty list of stage mappings \(a network has"),
    # choices, one by one
    (_data(s1={"block": ["s5", "conv"]}), r"^stages\[1\]\.block: got 'conv'; allowed: dws, s5, neck, full, group$"),
    (_data(s1={"channels": [4, 0]}), r"^stages\[1\]\.channels: got 0; allowed: a positive integer$"),
    (_data(s1={"channels": []}), r"^stages\[1\]\.channels: got no choices; allowed: at least one value$"),
    (
        _data(s1={"channels": [4, 4]}),
        r"^stages\[1\]\.channels: got \(4, 4\) with a repeated value; allowed: distinct choices$",
    ),
    (_data(s1={"num_states": 2.5}), r"^stages\[1\]\.num_states: got 2\.5; allowed: a positive integer$"),
    (_data(s1={"residual": ["yes"]}), r"^stages\[1\]\.residual: got 'yes'; allowed: true or false$"),
    (
        _data(s1={"bottleneck_ratio": [0.5, 4.5]}),
        r"^stages\[1\]\.bottleneck_ratio: got 4\.5; allowed: a number in \(0, 4\]$",
    ),
    (_data(s1={"norm": ["layer", "group"]}), r"^stages\[1\]\.norm: got 'group'; allowed: layer, batch, none$"),
    # conditional fields: given exactly when their block may be drawn
    (
        _data(s1={"groups": []}),
        r"^stages\[1\]\.groups: got no choices; allowed: at least one value, since block may be 'group'$",
    ),
    (
        _data(s1={"block": ["s5", "neck"]}),
        r"^stages\[1\]\.groups: got \(2, 4\) but block is never 'group' \(block choices s5, neck\);"
        r" allowed: groups choices only when block may be 'group'$",
    ),
    (
        _data(s1={"bottleneck_ratio": []}),
        r"^stages\[1\]\.bottleneck_ratio: got no choices; allowed: at least one value",
    ),
    (
        _data(s1={"block": ["neck", "group"]}),
        r"^stages\[1\]\.state_blocks: got \(None, 2, 4\) but block is never 's5'",
    ),
    (_data(s1={"state_blocks": []}), r"^stages\[1\]\.state_blocks: got no choices; .*\(use null for no block-diagonal"),
    # contexts the choices must cover
    (
        _data(s1={"groups": [4]}),  # stage 0 may have 6 channels: 4 divides neither 6 nor (with 4 channels) fails later
        r"^stages\[1\]\.groups: got choices \(4,\) of which none divides channels=4 and the previous stage's channels=6;"
        r" allowed: choices that include a common divisor for every channels pair the space can produce$",
    ),
    (
        _data(s1={"state_blocks": [4]}),
        r"^stages\[1\]\.state_blocks: got choices \(4,\) of which none divides num_states=6;"
        r" allowed: choices that include None or a divisor of every num_states choice$",
    ),
    # shared fields
    (
        _data(shared=["groups"]),
        r"^shared: got 'groups'; allowed: block, channels, num_states, depth, stride, residual, norm, activation$",
    ),
    (_data(shared=["norm", "norm"]), r"^shared: got 'norm' twice; allowed: each field at most once$"),
    (
        _data(shared=["channels"]),
        r"^stages\[1\]\.channels: got \(4, 8\), which differs from stages\[0\]\.channels \(4, 6\);"
        r" allowed: the same choices in every stage, since 'channels' is shared$",
    ),
    # strides: every combination must be valid
    (
        _data(s1={"stride": [1, 3]}),
        r"^stages\.stride \(a combination of choices\): got total stride 6 \(strides 2 \* 3\), which does not divide"
        r" input\.length=16; allowed: a total stride dividing input\.length$",
    ),
]


@pytest.mark.parametrize(("data", "message"), CONFIG_ERRORS)
def test_invalid_space_config_is_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        SearchSpace.from_dict(data)


def _task_space(task: str, strides: list[tuple[int, ...]], length: int = 32000, size: int = 28) -> SearchSpace:
    return SearchSpace(
        name=task,
        task=task,
        input=InputSpec(length=length),
        output=OutputSpec(size),
        stages=tuple(StageChoices(block=("dws",), channels=(8,), num_states=(4,), stride=s) for s in strides),
    )


def test_asr_space_with_a_frame_rate_out_of_range_is_rejected() -> None:
    _task_space("asr", [(4,), (4,), (10, 20)])  # 100 and 50 Hz: fine
    with pytest.raises(SpecError, match=r"^stages\.stride \(a combination of choices\): got total stride 80 .*200 Hz"):
        _task_space("asr", [(4,), (4,), (5, 10)])


def test_shared_stride_checks_only_equal_strides() -> None:
    space = SearchSpace(
        name="shared-stride",
        task="kws",
        input=InputSpec(length=64),
        output=OutputSpec(2),
        stages=tuple(StageChoices(block=("dws",), channels=(8,), num_states=(4,), stride=(2, 4)) for _ in range(3)),
        shared=("stride",),
    )
    assert {arch.total_stride for arch in space.enumerate()} == {8, 64}
    with pytest.raises(SpecError, match=r"got total stride 27 \(strides 3 \* 3 \* 3\)"):
        dataclasses.replace(space, stages=tuple(dataclasses.replace(s, stride=(2, 3)) for s in space.stages))


def test_denoise_space_needs_a_stride_1_bottleneck() -> None:
    _task_space("denoise", [(2, 4), (1,)], length=16000, size=1)
    with pytest.raises(
        SpecError, match=r"^stages\[1\]\.stride: got \(1, 2\); allowed: only 1 for the last stage of a denoise space"
    ):
        _task_space("denoise", [(2, 4), (1, 2)], length=16000, size=1)


def test_stage_choices_must_be_tuples() -> None:
    with pytest.raises(SpecError, match=r"^stages\[0\]\.channels: got 8; allowed: a tuple \(or list\) of choices$"):
        SearchSpace(
            "x", "kws", InputSpec(), OutputSpec(2), (StageChoices(block=("dws",), channels=8, num_states=(4,)),)
        )  # type: ignore[arg-type]


def test_bad_yaml_text_and_suffix(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^space: got text that is not valid YAML"):
        SearchSpace.from_yaml("name: [x")
    with pytest.raises(SpecError, match=r"^path: got .* with suffix '\.toml'"):
        SearchSpace.load(tmp_path / "space.toml")
