"""Live progress of a search: trial events, and a status line that answers "how far, how good, how long".

The status line says trials done against the budget, what is running, the best value so far of the
first objective, the Pareto front's size, the time used and the time left against ``wall_time``.
In a terminal it stays at the bottom (rich ``Live``, with a bar) while events scroll above it. In a
pipe or a CI log nothing can be redrawn, so it is a plain timestamped line printed when something
changed (a trial finished or started) and at least every :data:`HEARTBEAT_SECONDS` otherwise, so a
log shows the search is alive; never a carriage return or a cursor movement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from nas.console import make_console
from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.summary import study_counts

HEARTBEAT_SECONDS = 30.0
"""In a pipe, the status line is repeated at least this often even when nothing changed."""


def duration(seconds: float) -> str:
    """``45s``, ``12m05s``, ``2h03m``: short, fixed units, no fractions (a log is read by people)."""
    whole = round(max(0.0, seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@dataclass(frozen=True)
class SearchStatus:
    """One moment of a search, as the status line shows it."""

    name: str
    done: int
    """Finished trials that use the budget (all finished ones, or with ``budget.count: trained`` those that trained)."""
    budget: int | None
    complete: int
    pruned: int
    failed: int
    running: int
    paused: int
    front: int
    best: tuple[str, float, int] | None
    """(objective, value, trial number) of the best complete value of the first objective."""
    seconds: float
    wall_time: float | None

    def key(self) -> tuple[object, ...]:
        """What a change of which is worth a new line in a log (the clock alone is not)."""
        return (self.done, self.complete, self.pruned, self.failed, self.running, self.paused, self.best)

    def line(self) -> str:
        """Everything on one line (what a log gets)."""
        return f"{self.counts()} | {self.time_left()}"

    def counts(self) -> str:
        """Trials and the best value so far, without the clock."""
        done = f"{self.done}/{self.budget}" if self.budget is not None else str(self.done)
        parts = [
            f"{self.name}: {done} trials done ({self.complete} complete, {self.pruned} pruned, {self.failed} failed)",
            f"{self.running} running, {self.paused} paused",
        ]
        if self.best is not None:
            name, value, number = self.best
            parts.append(f"best {name} {_number(value)} (trial {number}), front {self.front}")
        return " | ".join(parts)

    def time_left(self) -> str:
        used = f"{duration(self.seconds)} used"
        if self.wall_time is not None:
            return f"{used}, {duration(self.wall_time - self.seconds)} left of {duration(self.wall_time)}"
        if self.budget and 0 < self.done < self.budget:
            rate = self.seconds / self.done
            return f"{used}, about {duration(rate * (self.budget - self.done))} left at this rate"
        return used

    def fraction(self) -> float | None:
        """How far along the budget is (trials or time, whichever is further), for the bar."""
        shares = []
        if self.budget:
            shares.append(self.done / self.budget)
        if self.wall_time:
            shares.append(self.seconds / self.wall_time)
        return min(1.0, max(shares)) if shares else None


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:.4g}"


def search_status(
    study: optuna.Study, config: StudyConfig, *, running: int, paused: int, seconds: float
) -> SearchStatus:
    """Read the study's trials once and describe where the search stands."""
    counts = study_counts(study, config)
    finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    done = 0
    best: tuple[str, float, int] | None = None
    name, sign = config.objective_names[0], (1.0 if config.directions[0] == "minimize" else -1.0)
    for trial in study.get_trials(deepcopy=False, states=finished):
        if trial.user_attrs.get(attrs.INTERRUPTED):
            continue
        if config.count == "asked" or not trial.user_attrs.get(attrs.NOT_TRAINED):
            done += 1
        if trial.state == TrialState.COMPLETE and trial.values:
            value = float(trial.values[0])
            if math.isfinite(value) and (best is None or sign * value < sign * best[1]):
                best = (name, value, trial.number)
    return SearchStatus(
        name=config.name,
        done=done,
        budget=config.trials,
        complete=counts.complete,
        pruned=counts.pruned,
        failed=counts.failed,
        running=running,
        paused=paused,
        front=counts.front_size,
        best=best,
        seconds=seconds,
        wall_time=config.wall_time,
    )


class SearchProgress:
    """``event(message)`` for things that happen; ``update(...)`` refreshes the status (at most once a second)."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        console: Console | None = None,
        interval: float = 1.0,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.enabled = enabled
        self.console = console or make_console()
        self.interval = interval
        self.heartbeat = heartbeat
        self._live: Live | None = None
        self._last = -math.inf
        self._last_printed = -math.inf
        self._last_key: tuple[object, ...] | None = None

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
        """One line per event, timestamped; never wrapped in a log (the console decides, see :mod:`nas.console`)."""
        if self.enabled:
            self.console.print(f"[{time.strftime('%H:%M:%S')}] {message}", markup=False, highlight=False)

    def update(
        self,
        study: optuna.Study,
        config: StudyConfig,
        *,
        running: int,
        paused: int,
        seconds: float,
        force: bool = False,
    ) -> None:
        """Refresh the status (at most every ``interval`` seconds; ``force``: now, e.g. the last one of a run)."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.interval):
            return
        self._last = now
        status = search_status(study, config, running=running, paused=paused, seconds=seconds)
        if self._live is not None:
            self._live.update(_live_view(status))
            return
        key = status.key()
        if key != self._last_key or now - self._last_printed >= self.heartbeat:
            self.console.print(f"[{time.strftime('%H:%M:%S')}] {status.line()}", markup=False, highlight=False)
            self._last_key, self._last_printed = key, now


def _live_view(status: SearchStatus) -> Group:
    """The terminal's status, two lines that each fit a narrow window: a bar of the budget used with the
    time used and left, then the trial counts and the best value (cut with an ellipsis if too wide)."""
    grid = Table.grid(padding=(0, 1))
    fraction = status.fraction()
    if fraction is not None:  # fixed widths: only the time text is cut in a narrow window
        grid.add_column(no_wrap=True, min_width=24, max_width=24)
        grid.add_column(no_wrap=True, min_width=4, max_width=4)
    grid.add_column(no_wrap=True, overflow="ellipsis")
    cells: list[ProgressBar | Text] = []
    if fraction is not None:
        cells += [ProgressBar(total=1.0, completed=fraction, width=24), Text(f"{fraction:>4.0%}")]
    cells.append(Text(status.time_left(), no_wrap=True, overflow="ellipsis"))
    grid.add_row(*cells)
    return Group(grid, Text(status.counts(), no_wrap=True, overflow="ellipsis"))
