"""What runs on a worker: one trial's training and evaluation at one fidelity.

Tasks (and the dataset indexes they build) are cached per worker process: Ray reuses workers, so
later trials skip re-scanning the dataset folder.
"""

from __future__ import annotations

import importlib

from nas.study.requests import TrialRequest
from nas.tasks import Task, TaskResult, make_task, task_names

_TASKS: dict[tuple[str, str], Task] = {}


def cached_task(name: str, data: str, module: str | None = None) -> Task:
    """This worker's task ``name`` on ``data``, made once (later runs reuse its dataset indexes); a task this
    process has not registered is registered by importing ``module`` (the driver's module of its definition:
    a task added outside the package)."""
    key = (name, data)
    if key not in _TASKS:
        if name not in task_names() and module is not None:
            importlib.import_module(module)
        _TASKS[key] = make_task(name, data)
    return _TASKS[key]


def run_trial(request: TrialRequest) -> TaskResult:
    """Train and evaluate ``request.arch`` up to ``request.budget``, continuing the checkpoint of the rung
    below when the request names one, and leaving one for the rung above when it asks.

    A non-finite loss comes back as a ``failed`` result; any other exception propagates to the
    backend, which reports it as the trial's failure reason.
    """
    return cached_task(request.task, request.data, request.task_module).run(
        request.arch,
        request.budget,
        request.training,
        weights_path=request.weights_path,
        schedule=request.schedule,
        resume_from=request.resume_from,
        checkpoint_to=request.checkpoint_to,
    )
