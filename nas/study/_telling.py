"""Ending a trial in storage: told COMPLETE with its values, PRUNED or FAILED with the reason, or given the
results of the trial of its architecture that trained. Every end also says so on the progress display, and a
trial that ended having trained leaves no checkpoints behind (its weights, when kept, stay)."""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.trial import TrialState

from nas.cost import format_quantity
from nas.study import attrs
from nas.study._checkpoints import remove_checkpoints
from nas.study.progress import SearchProgress
from nas.study.recording import RungRecords


class Teller:
    """The driver's tells (it is the only writer of the trials it asks); ``records`` name the checkpoints that
    the runs of each trial left."""

    def __init__(
        self, study: optuna.Study, objective_names: Sequence[str], progress: SearchProgress, records: RungRecords
    ) -> None:
        self.study = study
        self._names = list(objective_names)
        self._progress = progress
        self._records = records

    def finish(self, trial: optuna.Trial, values: list[float]) -> None:
        trial.set_user_attr(attrs.PHASE, "done")
        self.study.tell(trial, values)
        shown = ", ".join(
            f"{name}={format_quantity(name, value)}" for name, value in zip(self._names, values, strict=True)
        )
        self._progress.event(f"trial {trial.number} complete: {shown}")
        self._ended(trial)

    def fail(self, trial: optuna.Trial, reason: str) -> None:
        self.tell(trial, TrialState.FAIL, reason=reason)

    def tell(self, trial: optuna.Trial, state: TrialState, *, reason: str) -> None:
        trial.set_user_attr(attrs.REASON, reason)
        trial.set_user_attr(attrs.PHASE, "done")
        self.study.tell(trial, state=state)
        self._progress.event(f"trial {trial.number} {state.name.lower()}: {reason}")
        self._ended(trial)

    def _ended(self, trial: optuna.Trial) -> None:
        remove_checkpoints(self._records.checkpoints(trial.number), on_error=self._progress.event)

    def reuse(self, trial: optuna.Trial, original: int) -> None:
        """Tell ``trial`` the values of trial ``original``, a complete trial of the same architecture."""
        source = self.study.trials[original]
        copy_results(trial, source)
        trial.set_user_attr(attrs.DUPLICATE_OF, original)
        trial.set_user_attr(attrs.NOT_TRAINED, True)
        trial.set_user_attr(attrs.PHASE, "done")
        self.study.tell(trial, list(source.values))
        self._progress.event(f"trial {trial.number}: same architecture as trial {original}; its results reused")


def copy_results(trial: optuna.Trial, source: optuna.trial.FrozenTrial) -> None:
    """Give a trial the results of the trial of its architecture that trained, rung records included
    (they keep their run ids, so the one training is still counted once)."""
    for key in (attrs.METRICS, attrs.TRAINING, attrs.WEIGHTS, attrs.RUNGS):
        if key in source.user_attrs:
            trial.set_user_attr(key, source.user_attrs[key])
