"""The search spaces and study configs the search, report, export and console tests share.

Each test module used to spell out its own space and config dict in full: the same KWS header and the
same dozen keys, copied until a change to one (a new required key, a renamed objective) had to be made
in every copy. The spaces live here once, each with what makes it fit its tests, and
:func:`kws_study` builds a config from the few keys in which a test's study differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

from nas.study import StudyConfig
from nas.study.storage import make_storage

ACCURACY_AND_FLOPS = {"accuracy": "maximize", "train_flops": "minimize"}
"""A trained study's objectives: the task's quality against the cost of training."""
FLOPS_AND_PARAMS = {"train_flops": "minimize", "params": "maximize"}
"""A cost-only study's objectives (no training): params stands for capacity, so the two pull apart."""
RANDOM = {"name": "random", "seed": 0}
"""The sampler of most tests: seeded, so a run draws the same architectures each time."""


def kws_space(name: str, *stages: dict[str, Any]) -> dict[str, Any]:
    """A keyword-spotting space on one second of 16 kHz mono audio and 35 words, with these stages."""
    return {
        "name": name,
        "task": "kws",
        "input": {"sample_rate": 16000, "channels": 1, "length": 16000},
        "output": {"size": 35},
        "stages": list(stages),
    }


TINY_SPACE = kws_space(
    "tiny",
    {"block": ["dws", "s5", "full", "group"], "channels": [8], "num_states": [4, 8], "groups": [2], "stride": 4},
    {"block": ["dws", "s5", "neck"], "channels": [16], "num_states": [8], "bottleneck_ratio": [0.5], "stride": 4},
)
"""Every block kind, few enough choices that a trained search on Ray takes seconds per trial."""

ENUMERABLE_SPACE = kws_space(
    "enumerable",
    {"block": ["dws", "s5", "full", "group"], "channels": [8, 16], "num_states": [4, 8], "groups": [2, 4], "stride": 4},
    {
        "block": ["dws", "s5", "neck", "full", "group"],
        "channels": [16, 32],
        "num_states": [8, 16],
        "groups": [2, 4],
        "bottleneck_ratio": [0.25, 0.5],
        "stride": 4,
    },
    {"block": ["dws", "s5", "full"], "channels": [32, 64], "num_states": [8, 16], "stride": 2},
)
"""6,720 architectures; params (capacity) against training FLOPs is a real trade-off with a 73-point front."""

REPORT_SPACE = kws_space(
    "report-space",
    {"block": ["dws", "s5", "full", "group"], "channels": [8, 16], "num_states": [4, 8], "groups": [2], "stride": 4},
    {"block": ["dws", "s5", "neck"], "channels": [16, 32], "num_states": [8], "bottleneck_ratio": [0.5], "stride": 4},
    {"block": ["dws", "s5", "full"], "channels": [32], "num_states": [8, 16], "stride": 2},
)
"""Three stages with every block kind: the report's per-stage views have something to show."""

HOSTILE_SPACE = kws_space(
    "hostile",
    {"block": ["dws", "s5"], "channels": [8, 16], "num_states": [4, 8], "stride": 4},
    {"block": ["dws", "full"], "channels": [16, 32], "num_states": [4, 8], "stride": 4},
)
"""64 architectures; with cost-model objectives only, a search is a few hundred milliseconds."""

PIPED_SPACE = kws_space(
    "tiny",
    {"block": ["dws", "s5", "full"], "channels": [8], "num_states": [4, 8], "stride": 4},
    {"block": ["dws", "s5"], "channels": [16], "num_states": [8], "stride": 4},
)
"""Blocks with short summaries, so a summary cut at the console's width would show."""


def kws_study(
    name: str,
    folder: Path,
    space: dict[str, Any],
    objectives: Any,
    *,
    data: Path | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The config (as its YAML holds it) of a KWS study writing to ``folder/runs``.

    ``data`` defaults to a folder that is never read (cost-only studies train nothing); ``fields``
    add the keys in which the study differs (merge the result with ``|`` to replace one named here).
    """
    return {
        "name": name,
        "task": "kws",
        "data": str(data if data is not None else folder / "unused"),
        "space": space,
        "objectives": objectives,
        "output": str(folder / "runs"),
        **fields,
    }


def trained_study(folder: Path, data: Path, **changes: Any) -> dict[str, Any]:
    """A study training four networks of the tiny space for a few steps each: the search on Ray in small."""
    base = kws_study(
        "ray-study",
        folder,
        TINY_SPACE,
        ACCURACY_AND_FLOPS,
        data=data,
        budget={"trials": 4},
        training={"budget": "3steps", "batch_size": 4},
        sampler=RANDOM,
        resources={"cpus": 1},
    )
    return base | changes


def trained_config(folder: Path, data: Path, **changes: Any) -> StudyConfig:
    """:func:`trained_study`, loaded."""
    return StudyConfig.from_dict(trained_study(folder, data, **changes))


def stored_study(config: StudyConfig) -> optuna.Study:
    """The stored study, opened by Optuna itself (a journal URL needs its storage object, not a string)."""
    return optuna.load_study(study_name=config.name, storage=make_storage(config.storage_url))
