"""Live progress of a search: one status line (trials done/running/failed/pruned, front, hypervolume)
kept at the bottom of the terminal, with trial events printed above it; plain lines when not a TTY."""

from __future__ import annotations

import time

import optuna
from rich.console import Console
from rich.live import Live
from rich.text import Text

from nas.study.config import StudyConfig
from nas.study.summary import study_counts


class SearchProgress:
    """``event(message)`` for things that happen; ``update(...)`` refreshes the status (at most once a second)."""

    def __init__(self, *, enabled: bool = True, console: Console | None = None, interval: float = 1.0) -> None:
        self.enabled = enabled
        self.console = console or Console()
        self.interval = interval
        self._live: Live | None = None
        self._last = 0.0
        self._last_line = ""

    def __enter__(self) -> SearchProgress:
        if self.enabled and self.console.is_terminal:
            self._live = Live(Text("starting..."), console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def event(self, message: str) -> None:
        if self.enabled:
            self.console.print(f"[{time.strftime('%H:%M:%S')}] {message}", markup=False, highlight=False)

    def update(self, study: optuna.Study, config: StudyConfig, *, running: int, paused: int, seconds: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < self.interval:
            return
        self._last = now
        counts = study_counts(study, config)
        line = f"{config.name}: {counts.line()} | paused {paused} | in flight {running}"
        if self._live is not None:
            self._live.update(Text(f"{line} | {seconds:.0f} s"))
        elif line != self._last_line:  # a log, not a terminal: print only what changed
            self.console.print(f"{line} | {seconds:.0f} s", markup=False, highlight=False)
        self._last_line = line
