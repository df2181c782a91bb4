"""The validation layer: one message form, did-you-mean on keys, flags and reference rows from the same
declarations, and declared defaults that equal the settings classes' own."""

from __future__ import annotations

import argparse
import math
from dataclasses import MISSING as NO_DEFAULT
from dataclasses import fields

import pytest

from fieldspec import Boolean, Choice, Field, Integer, Interval, Names, Number, check_keys, unknown_keys_listed
from fieldspec.flags import add_flags, given
from fieldspec.reference import table


class Bad(Exception):
    pass


@pytest.mark.parametrize(
    ("rule", "value", "allowed"),
    [
        (Integer(), 0, "a positive integer"),
        (Integer(), True, "a positive integer"),
        (Integer(0), -1, "an integer >= 0"),
        (Integer(1, text="an integer >= 1"), 2.0, "an integer >= 1"),
        (Number(strict=True), 0, "a number > 0"),
        (Number(), math.nan, "a number >= 0"),
        (Number(maximum=0.5), 0.6, "a number in [0, 0.5]"),
        (Number(strict=True, maximum=0.9), 0.0, "a number in (0, 0.9]"),
        (Boolean(), 1, "true or false"),
        (Choice(("a", "b")), "c", "a, b"),
        (Interval(-30.0, 100.0), (40, 30), "(low, high) with -30 <= low <= high <= 100"),
        (Names(("x", "y")), ("z",), "a non-empty subset of x, y"),
        (Names(), ("x", "x"), "a non-empty list of distinct names"),
    ],
)
def test_a_refused_value_is_named_in_the_one_form(rule: object, value: object, allowed: str) -> None:
    declared = Field("f", rule)  # type: ignore[arg-type]
    with pytest.raises(Bad) as caught:
        declared.check(value, "s.f", Bad)
    assert str(caught.value) == f"s.f: got {value!r}; allowed: {allowed}"


def test_accepted_values_pass_and_optional_allows_none() -> None:
    assert Field("f", Number(as_float=True)).check(2, "f", Bad) == 2.0
    assert Field("f", Integer(), optional=True).check(None, "f", Bad) is None
    with pytest.raises(Bad, match=r"^f: got None; allowed: a positive integer$"):
        Field("f", Integer()).check(None, "f", Bad)


def test_long_values_are_cut_when_echoed() -> None:
    with pytest.raises(Bad, match=r"\.\.\. \(1002 characters\); allowed"):
        Field("f", Integer()).check("x" * 1000, "f", Bad, echo=True)


def test_unknown_keys_get_a_did_you_mean_hint() -> None:
    with pytest.raises(Bad, match=r"^b: got <unknown key 'trails'> \(did you mean 'trials'\?\); allowed: the keys"):
        check_keys({"trails": 1}, ("trials", "wall_time"), "b", Bad)
    with pytest.raises(Bad, match=r"^b: got unknown key 'trails' \(did you mean 'trials'\?\)"):
        check_keys({"trails": 1}, ("trials",), "b", Bad, brackets=False)
    with pytest.raises(Bad, match=r"^b: got <no 'trials'>; allowed: a mapping with the required keys trials$"):
        check_keys({}, ("trials",), "b", Bad, ("trials",))
    with pytest.raises(Bad, match=r"^t: unknown key\(s\) batchsize \(did you mean batch_size\?\); allowed: batch_size"):
        unknown_keys_listed({"batchsize": 1}, ("batch_size",), "t", Bad)


def test_flags_and_reference_rows_come_from_the_declarations() -> None:
    declared = (
        Field("per_word", Integer(), 100, "clips per word", flag="--per-word"),
        Field("snr_db", Interval(-30.0, 100.0, metavar="DB"), (5.0, 30.0), "SNR in dB", flag="--snr"),
        Field("hidden", Integer(), 1, "no flag"),
    )
    parser = argparse.ArgumentParser()
    add_flags(parser, declared)
    assert given(parser.parse_args([]), declared) == {}
    args = parser.parse_args(["--per-word", "3", "--snr-max", "20"])
    assert given(args, declared) == {"per_word": 3, "snr_db": (5.0, 20.0)}
    assert "clips per word (default 100)" in parser.format_help()
    rows = table(declared, flags=True).splitlines()
    assert rows[2] == "| `per_word` | `--per-word` | 100 | a positive integer | clips per word |"
    assert rows[3].startswith("| `snr_db` | `--snr-min`, `--snr-max` | 5.0, 30.0 |")


def _declared_defaults() -> list[tuple[type, tuple[Field, ...]]]:
    from nas.data.synth import settings as synth
    from nas.data.synth.asr import ASRConfig
    from nas.data.synth.denoise import DenoiseConfig
    from nas.data.synth.kws import KWSConfig
    from nas.study import config, settings
    from nas.tasks.config import TRAINING_FIELDS, TrainingConfig
    from search_spaces import fields as spec
    from search_spaces._spec import FrontendSpec, InputSpec, Stage

    return [
        (TrainingConfig, TRAINING_FIELDS),
        (KWSConfig, synth.KWS),
        (DenoiseConfig, synth.DENOISE),
        (ASRConfig, synth.ASR),
        (config.SamplerConfig, settings.SAMPLER[:2]),
        (config.FidelityConfig, settings.FIDELITY),
        (config.Resources, settings.RESOURCES),
        (config.CostSettings, settings.COST),
        (config.SupernetSettings, settings.SUPERNET[1:7]),
        (config.ConfirmSettings, settings.CONFIRM),
        (InputSpec, spec.INPUT_SETTINGS),
        (FrontendSpec, spec.FRONTEND_SETTINGS),
        (Stage, tuple(spec.STAGE_SETTINGS.values())),
    ]


def test_declared_defaults_are_the_settings_classes_defaults() -> None:
    for cls, declared in _declared_defaults():
        own = {item.name: item.default for item in fields(cls)}
        for item in declared:
            expected = own[item.name]
            if expected is NO_DEFAULT:
                continue
            assert item.default == expected, f"{cls.__name__}.{item.name}"


def test_a_near_miss_of_a_choice_gets_a_did_you_mean_hint() -> None:
    with pytest.raises(Bad, match=r"^stages\[0\]\.block: got 'ful' \(did you mean 'full'\?\); allowed: dws, full$"):
        Field("block", Choice(("dws", "full"))).check("ful", "stages[0].block", Bad)
