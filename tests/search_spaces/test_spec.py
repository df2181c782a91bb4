"""Architecture specs: exact round-trips, stable content ids, the summary line, defaults and files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from search_spaces import Architecture, FrontendSpec, InputSpec, OutputSpec, SpecError, Stage
from tests.search_spaces.examples import example_architecture

# sha256 of the example's canonical JSON: pins the id across processes, machines and releases.
EXAMPLE_ID = "c8b7466668d4"


def test_json_round_trip_is_exact() -> None:
    arch = example_architecture()
    again = Architecture.from_json(arch.to_json())
    assert again == arch
    assert again.id == arch.id


def test_yaml_round_trip_is_exact() -> None:
    arch = example_architecture()
    again = Architecture.from_yaml(arch.to_yaml())
    assert again == arch
    assert again.id == arch.id


def test_dict_round_trip_leaves_out_none_fields() -> None:
    arch = example_architecture()
    data = arch.to_dict()
    assert data["stages"][0] == {
        "block": "full",
        "channels": 16,
        "num_states": 16,
        "depth": 1,
        "stride": 4,
        "residual": True,
        "norm": "layer",
        "activation": "gelu",
    }
    assert data["stages"][1]["groups"] == 4 and "groups" not in data["stages"][2]
    assert Architecture.from_dict(data) == arch


def test_frontend_round_trips_and_raw_audio_specs_do_not_mention_it() -> None:
    raw = example_architecture()
    assert "frontend" not in raw.to_dict()["input"]  # so ids of raw-audio specs stay what they were
    mel = dataclasses.replace(raw, input=InputSpec(length=32000, frontend=FrontendSpec(mels=64, window=512)))
    assert mel.to_dict()["input"]["frontend"] == {"kind": "logmel", "mels": 64, "window": 512, "hop": 160}
    for again in (Architecture.from_yaml(mel.to_yaml()), Architecture.from_json(mel.to_json())):
        assert again == mel and again.id == mel.id
    short = {**mel.to_dict(), "input": {"length": 32000, "frontend": {"kind": "logmel"}}}
    assert Architecture.from_dict(short).input.frontend == FrontendSpec()  # defaults: 40 bands, 25 ms / 10 ms
    assert mel.summary().startswith("kws logmel64/160 | full 16")
    assert mel.total_stride == 160 * raw.total_stride


def test_id_is_a_stable_content_hash() -> None:
    arch = example_architecture()
    assert arch.id == EXAMPLE_ID
    assert example_architecture().id == arch.id


@pytest.mark.parametrize(
    "change",
    [
        lambda a: dataclasses.replace(a, output=OutputSpec(12)),
        lambda a: dataclasses.replace(a, input=InputSpec(length=32000)),
        lambda a: dataclasses.replace(a, input=InputSpec(length=32000, frontend=FrontendSpec())),
        lambda a: dataclasses.replace(a, stages=(dataclasses.replace(a.stages[0], norm="batch"), *a.stages[1:])),
        lambda a: dataclasses.replace(a, stages=(*a.stages[:3], dataclasses.replace(a.stages[3], state_blocks=4))),
        lambda a: dataclasses.replace(a, stages=a.stages[:3]),
    ],
)
def test_id_changes_when_a_field_changes(change) -> None:  # type: ignore[no-untyped-def]
    arch = example_architecture()
    changed = change(arch)
    assert changed != arch
    assert changed.id != arch.id


def test_summary_line() -> None:
    assert example_architecture().summary() == (
        "kws | full 16 n16 /4 | group g4 64 n32 /2 | neck r0.25 128 n16 x2 | s5 256 n64"
    )
    s5 = Architecture(
        "asr", InputSpec(length=32000), OutputSpec(28), (Stage("s5", 32, 16, state_blocks=4, stride=320),)
    )
    assert s5.summary() == "asr | s5 b4 32 n16 /320"


def test_total_stride_and_bottleneck() -> None:
    arch = example_architecture()
    assert arch.total_stride == 8
    assert [stage.bottleneck for stage in arch.stages] == [None, None, 32, None]
    assert Stage("neck", 8, 4, bottleneck_ratio=0.01).bottleneck == 1  # never below one state block


def test_integer_ratio_is_stored_as_float_so_ids_agree() -> None:
    base = example_architecture()
    with_int = dataclasses.replace(
        base, stages=(*base.stages[:2], dataclasses.replace(base.stages[2], bottleneck_ratio=1))
    )
    with_float = dataclasses.replace(
        with_int, stages=(*base.stages[:2], dataclasses.replace(base.stages[2], bottleneck_ratio=1.0))
    )
    assert isinstance(with_int.stages[2].bottleneck_ratio, float)
    assert with_int.id == with_float.id


def test_defaults_fill_in_on_load() -> None:
    arch = Architecture.from_dict(
        {"task": "kws", "output": {"size": 10}, "stages": [{"block": "dws", "channels": 8, "num_states": 4}]}
    )
    assert arch.input == InputSpec(16000, 1, 16000)
    assert arch.stages[0] == Stage("dws", 8, 4, depth=1, stride=1, residual=True, norm="layer", activation="gelu")


def test_list_of_stages_is_stored_as_tuple() -> None:
    arch = Architecture("kws", InputSpec(), OutputSpec(2), [Stage("dws", 8, 4)])  # type: ignore[arg-type]
    assert isinstance(arch.stages, tuple)
    assert hash(arch) == hash(Architecture("kws", InputSpec(), OutputSpec(2), (Stage("dws", 8, 4),)))


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_save_and_load_by_suffix(tmp_path: Path, suffix: str) -> None:
    arch = example_architecture()
    path = arch.save(tmp_path / f"arch{suffix}")
    assert Architecture.load(path) == arch
    if suffix == ".json":
        assert json.loads(path.read_text())["task"] == "kws"


def test_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"path: got '.*arch\.txt' with suffix '\.txt'; allowed: \.json, \.yaml, \.yml"):
        example_architecture().save(tmp_path / "arch.txt")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"task": "kws", "output": {"size": 2}, "stages": [], "extra": 1},
            r"architecture: got unknown key 'extra'; allowed: the keys task, input, output, stages",
        ),
        ({"task": "kws", "stages": []}, r"architecture: got no 'output'; allowed: a mapping with the required keys"),
        (
            {
                "task": "kws",
                "output": {"size": 2},
                "stages": [{"block": "dws", "channels": 8, "num_states": 4, "group": 2}],
            },
            r"stages\[0\]: got unknown key 'group' \(did you mean 'groups'\?\); allowed: the keys block, channels, num_states, groups, ",
        ),
        (
            {"task": "kws", "output": {"size": 2}, "stages": [{"block": "dws", "channels": 8}]},
            r"stages\[0\]: got no 'num_states'",
        ),
        (
            {"task": "kws", "output": {"size": 2}, "stages": "dws"},
            r"stages: got str 'dws'; allowed: a list of stage mappings",
        ),
        ({"task": "kws", "output": {"size": 2}, "stages": ["dws"]}, r"stages\[0\]: got str 'dws'; allowed: a mapping"),
        (
            {"task": "kws", "output": {"size": 2}, "stages": [{"block": "dws", "channels": "8", "num_states": 4}]},
            r"stages\[0\]\.channels: got '8'; allowed: a positive integer",
        ),
        (
            {"task": "kws", "input": {"rate": 8000}, "output": {"size": 2}, "stages": []},
            r"input: got unknown key 'rate'",
        ),
        ({"task": "kws", "output": 35, "stages": []}, r"output: got int 35; allowed: a mapping"),
        ([1, 2], r"architecture: got list \[1, 2\]; allowed: a mapping"),
    ],
)
def test_from_dict_rejects_bad_data(data: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        Architecture.from_dict(data)


def test_bad_json_and_yaml_text() -> None:
    with pytest.raises(SpecError, match=r"architecture: got text that is not valid JSON"):
        Architecture.from_json("{task: kws")
    with pytest.raises(SpecError, match=r"architecture: got text that is not valid YAML"):
        Architecture.from_yaml("task: [kws")
    with pytest.raises(SpecError, match=r"architecture: got str 'just text'; allowed: a mapping"):
        Architecture.from_yaml("just text")
