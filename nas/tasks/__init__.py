"""Tasks: train an architecture under a budget on a dataset folder and evaluate it.

``make_task("kws", "data/kws").run(arch, Budget.parse("300s"), TrainingConfig(seed=0))`` is what
one trial of a search executes. Each task is one :class:`TaskDefinition` (:mod:`nas.tasks.registry`),
registered by its module when this package is imported; :func:`get_task` and :func:`task_names` are
how the rest of ``nas`` asks about tasks (docs/adding-a-task.md: how to add one).
"""

from __future__ import annotations

from pathlib import Path

# isort: off
# The built-in tasks register on import, in the order error messages list them (kws, denoise, asr).
from nas.tasks._kws import KeywordSpottingTask
from nas.tasks.denoise import DenoisingTask
from nas.tasks._asr import ALPHABET, SpeechRecognitionTask

# isort: on
from nas.tasks.base import Direction, Task
from nas.tasks.budget import Budget
from nas.tasks.config import TrainingConfig
from nas.tasks.registry import (
    CorpusDefinition,
    OutputDefinition,
    TaskDefinition,
    get_task,
    register_task,
    task_names,
    unregister_task,
)
from nas.tasks.results import CurvePoint, TaskResult, TrainingRun


def make_task(name: str, data_root: str | Path, **options: object) -> Task:
    """The task ``name`` reading its data from ``data_root`` (options go to the task's constructor)."""
    return get_task(name).task(data_root, **options)


def __getattr__(name: str) -> dict[str, type[Task]]:
    """``TASKS`` (task name -> Task class), computed on access so that tasks registered later are in it."""
    if name == "TASKS":
        return {task: get_task(task).task for task in task_names()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ALPHABET",
    "Budget",
    "CorpusDefinition",
    "CurvePoint",
    "DenoisingTask",
    "Direction",
    "KeywordSpottingTask",
    "OutputDefinition",
    "SpeechRecognitionTask",
    "Task",
    "TaskDefinition",
    "TaskResult",
    "TrainingConfig",
    "TrainingRun",
    "get_task",
    "make_task",
    "register_task",
    "task_names",
    "unregister_task",
]
