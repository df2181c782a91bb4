"""Fixtures: the studies the report tests share (built once per session where nothing mutates them)."""

from __future__ import annotations

from collections.abc import Callable
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
)
from tests.support.studies import stored_study


def _searched(config: StudyConfig) -> tuple[StudyConfig, optuna.Study]:
    run_study(config)
    return config, stored_study(config)


def _filled(config: StudyConfig, fill: Callable[[optuna.Study], object]) -> tuple[StudyConfig, optuna.Study]:
    study = open_study(config)
    fill(study)
    return config, study


@pytest.fixture(scope="session")
def cost_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyConfig, optuna.Study]:
    """Two objectives (train_flops down, params up), some trials pruned by a constraint."""
    return _searched(cost_config(tmp_path_factory.mktemp("cost2")))


@pytest.fixture(scope="session")
def three_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyConfig, optuna.Study]:
    """Three objectives: parallel coordinates and a 3-D view besides the three pair plots."""
    return _searched(
        cost_config(tmp_path_factory.mktemp("cost3"), name="report-three", objectives=THREE, constraints=[])
    )


@pytest.fixture
def hand_study(tmp_path: Path) -> tuple[StudyConfig, optuna.Study]:
    return _filled(hand_made_config(tmp_path), fill_hand_made)


@pytest.fixture
def halving_study(tmp_path: Path) -> tuple[StudyConfig, optuna.Study]:
    """Successive halving: complete, stopped-at-rung-0, constraint-pruned, running and interrupted trials."""
    return _filled(halving_config(tmp_path), fill_halving)
