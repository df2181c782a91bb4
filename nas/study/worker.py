"""What runs on a Ray worker: one trial's training and evaluation at one fidelity.

Payloads and results are plain dicts so that they cross process and node boundaries unchanged.
Tasks (and the dataset indexes they build) are cached per worker process: Ray reuses workers, so
later trials skip re-scanning the dataset folder.
"""

from __future__ import annotations

from typing import Any

from nas.tasks import Budget, Task, TrainingConfig, make_task
from search_spaces import Architecture

_TASKS: dict[tuple[str, str], Task] = {}


def _task(name: str, data: str) -> Task:
    key = (name, data)
    if key not in _TASKS:
        _TASKS[key] = make_task(name, data)
    return _TASKS[key]


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """Train and evaluate ``payload["arch"]``; returns :meth:`TaskResult.to_dict`.

    A non-finite loss comes back as a ``failed`` result; any other exception propagates to the
    driver, which records it as the trial's failure reason.
    """
    arch = Architecture.from_dict(payload["arch"])
    task = _task(payload["task"], payload["data"])
    result = task.run(
        arch,
        Budget.parse(payload["budget"]),
        TrainingConfig.from_dict(payload["training"]),
        weights_path=payload.get("weights_path"),
    )
    return result.to_dict()
