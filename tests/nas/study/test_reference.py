"""The reference point a study derives from its space when the config gives none: the sampled networks'
costs all lie inside it, the config's own point and its constraints win, and it is stored once."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from nas.cost import score
from nas.study import StudyConfig, run_study
from nas.study.reference import REFERENCE_ATTR, ensure_reference, space_reference, study_reference
from nas.study.summary import study_counts
from tests.support.studies import ACCURACY_AND_FLOPS, ENUMERABLE_SPACE, kws_study

STUDIES = Path(__file__).resolve().parents[3] / "studies"


def _config(tmp_path: Path, **changes: Any) -> StudyConfig:
    objectives = {**ACCURACY_AND_FLOPS, "train_peak_bytes": "minimize"}
    base = kws_study("derived-reference", tmp_path, ENUMERABLE_SPACE, objectives, budget={"trials": 6})
    return StudyConfig.from_dict(base | changes)


@pytest.mark.parametrize(("config_name", "samples"), [("kws-quick.yaml", 40), ("kws/quick.yaml", 15)])
def test_every_sampled_architecture_costs_less_than_the_derived_reference(config_name: str, samples: int) -> None:
    config = StudyConfig.load(STUDIES / config_name)
    config = replace(config, reference=None)  # kws/quick.yaml declares one
    reference = space_reference(config)
    assert reference["accuracy"] == 0.0  # the task's worst value, not a trial's
    rng = random.Random(1)
    for _ in range(samples):
        cost = score(config.space.random(rng), config.cost.batch, config.cost.length).objectives()
        assert cost["train_flops"] < reference["train_flops"]
        assert cost["train_peak_bytes"] < reference["train_peak_bytes"]


def test_the_derived_reference_is_not_far_beyond_the_space() -> None:
    """The point bounds the space's most expensive network, so the sampled ones fill a good part of the box."""
    config = StudyConfig.load(STUDIES / "kws-quick.yaml")
    reference = space_reference(config)
    rng = random.Random(2)
    flops = [score(config.space.random(rng), config.cost.batch).train_flops for _ in range(30)]
    assert max(flops) > 0.4 * reference["train_flops"]


def test_a_constraint_caps_the_derived_coordinate(tmp_path: Path) -> None:
    free = space_reference(_config(tmp_path))
    cap = free["train_flops"] / 4
    capped = space_reference(_config(tmp_path, constraints=[f"train_flops <= {cap}"]))
    assert capped["train_flops"] == pytest.approx(cap * 1.1)
    assert capped["train_peak_bytes"] == free["train_peak_bytes"]


def test_the_config_s_reference_wins_over_the_stored_one(tmp_path: Path) -> None:
    declared = {"accuracy": 0.1, "train_flops": 5e9, "train_peak_bytes": 1e9}
    config = _config(tmp_path, reference=declared)
    stored = {"accuracy": 0.0, "train_flops": 1.0, "train_peak_bytes": 1.0}
    reference = study_reference(config, stored, np.zeros((0, 3)))
    assert reference is not None and reference.values == declared and reference.declared


def test_a_metric_without_a_worst_value_comes_from_the_trials(tmp_path: Path) -> None:
    config = _config(tmp_path, objectives={"test_loss": "minimize", "train_flops": "minimize"})
    stored = space_reference(config)
    assert set(stored) == {"train_flops"}
    values = np.array([[1.0, 2e8], [2.0, 1e8]])
    reference = study_reference(config, stored, values)
    assert reference is not None and reference.origin == "space and trials"
    assert reference.values == {"test_loss": pytest.approx(2.1), "train_flops": stored["train_flops"]}


def test_the_search_stores_the_point_once_and_status_reads_it(tmp_path: Path) -> None:
    """Derived at the first search, kept by the next one (even with another space), read back by status."""
    config = _config(tmp_path, objectives={"train_flops": "minimize", "params": "maximize"})
    storage = optuna.storages.InMemoryStorage()
    outcome = run_study(config, storage=storage)
    stored = outcome.study.user_attrs[REFERENCE_ATTR]
    assert stored == pytest.approx(space_reference(config))
    ensure_reference(
        outcome.study, _config(tmp_path, objectives={"train_flops": "minimize", "params": "maximize"}, space="kws-mel")
    )
    assert outcome.study.user_attrs[REFERENCE_ATTR] == stored
    counts = study_counts(outcome.study, config)
    assert counts.reference is not None and counts.reference.origin == "space"
    assert counts.reference.values == stored
    assert counts.share is not None and 0 < counts.share <= 1
