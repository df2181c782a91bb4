"""Running per-item work in this process or a process pool, with a rich progress bar.

Why results do not depend on the worker count: each item carries everything it needs (its seed is
derived from the corpus seed and its index, never from a shared generator) and eSpeak is reloaded
for each utterance, so an item gives the same bytes whichever process runs it. Workers are
spawned, not forked: a fork of a process that already runs torch's thread pool can deadlock.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nas.console import make_console
from nas.errors import DatasetError

Item = TypeVar("Item")
Result = TypeVar("Result")

_worker_state: dict[str, Any] = {}


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress display (None when disabled, e.g. in tests)."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=make_console()) as progress:  # in a log: one whole line per bar
        yield progress


def _initialise_worker(context: Any) -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker; torch's own pool would oversubscribe
    _worker_state["context"] = context


def _run_one(job: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    function, item = job
    return function(_worker_state["context"], item)


class WorkerPool:
    """``workers`` processes sharing one ``context`` (sent once, not with every item); 1 means in-process."""

    def __init__(self, workers: int, context: Any, progress: Progress | None) -> None:
        if workers < 1:
            raise DatasetError(f"workers={workers} must be at least 1")
        self._workers = workers
        self._context = context
        self._progress = progress
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> WorkerPool:
        if self._workers > 1:
            spawn = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=spawn, initializer=_initialise_worker, initargs=(self._context,)
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def run(self, function: Callable[[Any, Item], Result], items: Sequence[Item], label: str) -> list[Result]:
        """``[function(context, item) for item in items]``, in order."""
        progress = self._progress
        task = progress.add_task(label, total=len(items)) if progress is not None else None
        results: list[Result] = []
        if self._pool is None:
            outputs: Iterable[Result] = (function(self._context, item) for item in items)
        else:
            chunk = max(1, min(16, len(items) // (self._workers * 8)))
            outputs = self._pool.map(_run_one, [(function, item) for item in items], chunksize=chunk)
        for result in outputs:
            results.append(result)
            if progress is not None and task is not None:
                progress.advance(task)
        return results
