"""Real studies to export: searched with the real driver, on a local Ray instance, on the tiny tone corpus.

``trained_study`` keeps its weights (each trial trains 3 steps); ``unweighted_study`` trains but
runs with ``keep_weights: false``; ``cost_only_study`` never trains (cost objectives only) and has a
constraint that prunes some trials. Ray is shut down as soon as the searches are done, so other test
modules can start their own instance.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import torch

from centaurus import CentaurusConfigError
from nas.export.cli import register
from nas.study import StudyConfig, run_study
from tests.support.local_ray import local_ray
from tests.support.studies import FLOPS_AND_PARAMS, TINY_SPACE, kws_study, trained_config


@pytest.fixture(scope="session")
def searched(tmp_path_factory: pytest.TempPathFactory, kws_root: Path) -> dict[str, StudyConfig]:
    root = tmp_path_factory.mktemp("studies")
    configs = {
        "trained": trained_config(root, kws_root, name="export-trained", budget={"trials": 4}),
        "unweighted": trained_config(
            root, kws_root, name="export-unweighted", budget={"trials": 2}, keep_weights=False
        ),
    }
    with local_ray("centaurus-nas-export-tests"):
        for config in configs.values():
            outcome = run_study(config)
            assert outcome.complete == config.trials, outcome
    return configs


@pytest.fixture(scope="session")
def trained_study(searched: dict[str, StudyConfig]) -> StudyConfig:
    return searched["trained"]


@pytest.fixture(scope="session")
def unweighted_study(searched: dict[str, StudyConfig]) -> StudyConfig:
    return searched["unweighted"]


@pytest.fixture(scope="session")
def cost_only_study(tmp_path_factory: pytest.TempPathFactory) -> StudyConfig:
    """Six trials scored by the cost model alone; the constraint prunes the costlier architectures."""
    root = tmp_path_factory.mktemp("cost-only")
    config = StudyConfig.from_dict(
        kws_study(
            "export-cost-only",
            root,
            TINY_SPACE,
            FLOPS_AND_PARAMS,
            constraints=["train_flops <= 3e9"],
            budget={"trials": 6},
            sampler={"name": "random", "seed": 1},
        )
    )
    run_study(config)
    return config


def run_cli(argv: Sequence[str]) -> int:
    """``centaurus-nas export ...`` as ``nas.cli.main`` runs it (user errors print and return 2)."""
    parser = argparse.ArgumentParser(prog="centaurus-nas")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", *argv])
    try:
        return int(args.handler(args))
    except CentaurusConfigError as error:
        print(f"centaurus-nas: error: {error}", file=sys.stderr)
        return 2


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Modest CPU use, and the same thread count for every model compared in a test."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
