"""Tasks: train an architecture under a budget on a dataset folder and evaluate it.

``make_task("kws", "data/kws").run(arch, Budget.parse("300s"), TrainingConfig(seed=0))`` is what
one trial of a search executes.
"""

from __future__ import annotations

from pathlib import Path

from nas.errors import TaskConfigError
from nas.tasks.asr import ALPHABET, SpeechRecognitionTask
from nas.tasks.base import Direction, Task
from nas.tasks.budget import Budget
from nas.tasks.config import TrainingConfig
from nas.tasks.denoise import DenoisingTask
from nas.tasks.kws import KeywordSpottingTask
from nas.tasks.results import CurvePoint, TaskResult, TrainingRun

TASKS: dict[str, type[Task]] = {
    "kws": KeywordSpottingTask,
    "denoise": DenoisingTask,
    "asr": SpeechRecognitionTask,
}


def make_task(name: str, data_root: str | Path, **options: object) -> Task:
    """The task ``name`` reading its data from ``data_root`` (options go to the task's constructor)."""
    if name not in TASKS:
        raise TaskConfigError(f"task: got {name!r}; allowed: {', '.join(TASKS)}")
    return TASKS[name](data_root, **options)  # type: ignore[arg-type]


__all__ = [
    "ALPHABET",
    "TASKS",
    "Budget",
    "CurvePoint",
    "DenoisingTask",
    "Direction",
    "KeywordSpottingTask",
    "SpeechRecognitionTask",
    "Task",
    "TaskResult",
    "TrainingConfig",
    "TrainingRun",
    "make_task",
]
