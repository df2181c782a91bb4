"""A small progress bar over a budget fraction (rich), silent when disabled (e.g. on Ray workers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from nas.console import make_console


class _Bar:
    def __init__(self, progress: Progress | None, task_id: TaskID | None) -> None:
        self._progress, self._task_id = progress, task_id

    def update(self, fraction: float, status: str = "") -> None:
        if self._progress is not None and self._task_id is not None:
            self._progress.update(self._task_id, completed=fraction, status=status)


@contextmanager
def progress_bar(description: str, *, enabled: bool, total: float = 1.0) -> Iterator[_Bar]:
    """Yields an object with ``update(fraction_or_count, status)``; nothing is drawn when not ``enabled``."""
    if not enabled:
        yield _Bar(None, None)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, transient=False, console=make_console()) as progress:  # a log: not wrapped
        task_id = progress.add_task(description, total=total, status="")
        yield _Bar(progress, task_id)
