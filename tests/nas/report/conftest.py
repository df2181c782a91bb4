"""Fixtures: the studies the report tests share (built once per session where nothing mutates them)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from nas.study import StudyConfig, run_study
from nas.study.storage import open_study
from tests.nas.report.studies import (
    THREE,
    cost_config,
    fill_halving,
    fill_hand_made,
    halving_config,
    hand_made_config,
    load,
)


@pytest.fixture(scope="session")
def cost_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyConfig, optuna.Study]:
    """Two objectives (train_flops down, params up), some trials pruned by a constraint."""
    config = cost_config(tmp_path_factory.mktemp("cost2"))
    run_study(config)
    return config, load(config)


@pytest.fixture(scope="session")
def three_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyConfig, optuna.Study]:
    """Three objectives: parallel coordinates and a 3-D view besides the three pair plots."""
    config = cost_config(tmp_path_factory.mktemp("cost3"), name="report-three", objectives=THREE, constraints=[])
    run_study(config)
    return config, load(config)


@pytest.fixture
def hand_study(tmp_path: Path) -> tuple[StudyConfig, optuna.Study]:
    config = hand_made_config(tmp_path)
    study = open_study(config)
    fill_hand_made(study)
    return config, study


@pytest.fixture
def halving_study(tmp_path: Path) -> tuple[StudyConfig, optuna.Study]:
    """Successive halving: complete, stopped-at-rung-0, constraint-pruned, running and interrupted trials."""
    config = halving_config(tmp_path)
    study = open_study(config)
    fill_halving(study)
    return config, study
