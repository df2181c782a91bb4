"""How much of a study's budget is left: trials (counted in storage, across drivers) and search time.

The trial count is read from storage before each ask, so several drivers sharing a study stop
together (each overshoots by at most one trial). The search time used is stored on the study
every few seconds, so the wall-time budget spans resumes and a killed run's time still counts.
"""

from __future__ import annotations

import time

import optuna
from optuna.trial import TrialState

from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.progress import SearchProgress

SECONDS_ATTR = "centaurus_seconds_used"
"""Study attribute: search wall time used so far, summed over runs (the wall-time budget spans resumes)."""
SECONDS_SAVE_INTERVAL = 2.0
"""How often the search time used is stored while a driver runs (what a kill loses at most)."""
MAX_ASKED_PER_COUNTED = 20
"""With ``budget.count: trained``, a study stops after asking this many trials per budgeted one."""


class TrialBudget:
    """The trials a study may still ask (``budget.trials``, counted as ``budget.count`` says)."""

    def __init__(self, study: optuna.Study, config: StudyConfig, progress: SearchProgress) -> None:
        self._study, self._config, self._progress = study, config, progress
        self._gave_up = False  # budget.count: trained, and the space's samples almost never train

    def counted(self) -> tuple[int, int]:
        """``(asked, counted)``: every asked trial except those interrupted by a dead driver, and of them
        the ones that use the budget (all of them, or with ``budget.count: trained`` those that trained)."""
        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
        asked = [
            trial
            for trial in self._study.get_trials(deepcopy=False, states=states)
            if not trial.user_attrs.get(attrs.INTERRUPTED)
        ]
        if self._config.count == "asked":
            return len(asked), len(asked)
        return len(asked), sum(1 for trial in asked if not trial.user_attrs.get(attrs.NOT_TRAINED))

    def left(self) -> int:
        if self._config.trials is None:
            return 1 << 30
        asked, counted = self.counted()
        if self._config.count == "trained" and asked >= MAX_ASKED_PER_COUNTED * self._config.trials:
            if not self._gave_up:  # a space whose samples almost never train
                self._gave_up = True
                self._progress.event(
                    f"stopping: {asked} trials asked for a budget of {self._config.trials} trained ones"
                    f" (budget.count: trained); nearly every sample was pruned before training or a duplicate"
                )
            return 0
        return max(0, self._config.trials - counted)


class SearchClock:
    """The search time used: this run's (monotonic) on top of what earlier runs of the study stored."""

    def __init__(self, study: optuna.Study, wall_time: float | None) -> None:
        self._study = study
        self._started = time.monotonic()
        self._previous = float(study.user_attrs.get(SECONDS_ATTR, 0.0))
        self._deadline = None if wall_time is None else self._started + wall_time - self._previous
        self._last_saved = self._started

    def run_seconds(self) -> float:
        """Seconds since this run started."""
        return time.monotonic() - self._started

    def seconds(self) -> float:
        """Seconds used by the study so far, over all its runs."""
        return self._previous + self.run_seconds()

    def expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def save(self, *, force: bool = False) -> None:
        """Store the time used every few seconds (or now, with ``force``): a killed run's time still counts."""
        now = time.monotonic()
        if not force and now - self._last_saved < SECONDS_SAVE_INTERVAL:
            return
        self._last_saved = now
        self._study.set_user_attr(SECONDS_ATTR, self._previous + now - self._started)
