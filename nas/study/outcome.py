"""What one run of a study did: counts over the whole study afterwards, and where the results are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna


@dataclass(frozen=True)
class SearchOutcome:
    """The result of :func:`nas.study.run_study` (counts over the whole study, after the run)."""

    complete: int
    pruned: int
    failed: int
    interrupted: int
    seconds: float
    """Wall seconds of this run."""
    training_seconds: float
    """Training seconds of the runs this run collected (all workers together)."""
    output_dir: Path
    study: optuna.Study
    first_trial: int
    """How many trials the study had before this run: the trials from this number on are this run's."""
    stopped_by_user: bool = False
    """The run was interrupted (Ctrl-C) before its budget was used."""
    marked_interrupted: int = 0
    """Trials that were running when it was interrupted: failed as ``interrupted`` and re-enqueued for resume."""

    def new_trials(self) -> list[optuna.trial.FrozenTrial]:
        """The trials this run asked (and re-runs of interrupted trials it enqueued)."""
        return self.study.trials[self.first_trial :]
