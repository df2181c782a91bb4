"""One entry point from a task name to its synthetic corpus: what studies call when their data is missing.

The generator and its config are the task's ``TaskDefinition.corpus`` (:mod:`nas.tasks.registry`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError


def generate_corpus(
    task: str, out: str | Path, *, workers: int = 1, progress: bool = True, **options: Any
) -> CorpusSummary:
    """Generate ``task``'s corpus in ``out``; ``options`` are fields of that task's config dataclass
    (the registered ``TaskDefinition.corpus`` of the task)."""
    from nas.tasks.registry import get_task, task_names  # here: the task modules import this package

    corpora = {name: get_task(name).corpus for name in task_names()}
    corpus = corpora.get(task) if isinstance(task, str) else None
    if corpus is None:
        allowed = ", ".join(name for name, each in corpora.items() if each is not None)
        raise DatasetError(f"generate_data: got task {task!r}; allowed: {allowed}")
    config_type, generate = corpus.config, corpus.generate
    known = {field.name for field in dataclasses.fields(config_type)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DatasetError(
            f"generate_data: unknown option(s) {', '.join(unknown)} for {task}; allowed: {', '.join(sorted(known))}"
        )
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in options.items()}
    return generate(Path(out), config_type(**values), workers=workers, progress=progress)
