"""One architecture, one training: a trial asked for an architecture that another trial has evaluated or is
running gets that trial's results instead of training the network again.

An architecture already evaluated (a complete trial of any driver) is reused at once. One that another
trial runs (asked earlier, or already training, paused or starting, by any live driver) is waited
for: the waiting trial takes its original's fate when that one ends (its values, its pruning with
the reason, or its failure). When the original's driver dies instead, the waiting trial looks again
and trains the architecture itself if no one else runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import optuna
from optuna.trial import TrialState

from nas.study import attrs
from nas.study._telling import Teller, copy_results
from nas.study.jobs import Job
from nas.study.liveness import Liveness
from nas.study.progress import SearchProgress

SETTLE_INTERVAL = 0.5
"""Seconds between two looks at the originals that waiting trials wait for."""


class SameArchitecture:
    """The evaluated architectures of a study and the trials waiting for a run of their architecture."""

    def __init__(self, study: optuna.Study, liveness: Liveness, teller: Teller, progress: SearchProgress) -> None:
        self._study, self._liveness, self._teller, self._progress = study, liveness, teller, progress
        self._completed: dict[str, int] = {}  # arch id -> the first complete trial that trained it
        self._waiting: dict[int, tuple[Job, int]] = {}  # trial number -> (its job, the original's trial id)
        self._last_settle = 0.0

    def completed(self, arch_id: str, number: int) -> None:
        """Trial ``number`` evaluated ``arch_id`` (the first one to do so is the one reused)."""
        self._completed.setdefault(arch_id, number)

    def evaluated_by(self, arch_id: str) -> int | None:
        return self._completed.get(arch_id)

    def original(self, arch_id: str, number: int) -> optuna.trial.FrozenTrial | None:
        """The trial whose results trial ``number`` (of architecture ``arch_id``) should have instead of training.

        A complete trial of that architecture (the stored study, every driver's), else one that is
        running it: asked earlier (lower number), or already training. Each trial writes its
        ``arch_id`` right after sampling and checks just before training, so of two drivers asking the
        same architecture at once, the later one waits for the earlier one's result.
        """
        best: optuna.trial.FrozenTrial | None = None
        for other in self._study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
            user = other.user_attrs
            if other.number == number or user.get(attrs.ARCH_ID) != arch_id or user.get(attrs.INTERRUPTED):
                continue
            if attrs.DUPLICATE_OF in user or user.get(attrs.WAITING_FOR) is not None or attrs.ESTIMATED_BY in user:
                continue  # an estimate is no training result: its architecture's confirmation must train
            if other.state == TrialState.COMPLETE:
                return other
            phase = str(user.get(attrs.PHASE, ""))
            claimed = other.number < number or phase.startswith(("starting", "training", "paused"))
            earliest = best is None or other.number < best.number
            if claimed and earliest and not self._liveness.is_dead(other):
                best = other
        return best

    def wait_for(self, job: Job, original: optuna.trial.FrozenTrial) -> None:
        """Reuse ``original``'s results when it is complete, else wait until it ends."""
        if original.state == TrialState.COMPLETE:
            self._teller.reuse(job.trial, original.number)
            return
        job.trial.set_user_attr(attrs.WAITING_FOR, original.number)
        job.trial.set_user_attr(attrs.NOT_TRAINED, True)
        job.trial.set_user_attr(attrs.PHASE, f"waiting for trial {original.number} (same architecture)")
        self._waiting[job.trial.number] = (job, original._trial_id)
        self._progress.event(
            f"trial {job.trial.number}: same architecture as trial {original.number}, which is running; waiting for it"
        )

    def waiting(self) -> list[Job]:
        return [job for job, _ in self._waiting.values()]

    def blocked(self, paused_here: Callable[[int], bool]) -> bool:
        """Whether a trial waits for a trial of the same architecture that another driver (or a later rung) runs."""
        storage = self._study._storage
        return any(not paused_here(storage.get_trial(trial_id).number) for _, trial_id in self._waiting.values())

    def settle(self, *, force: bool = False) -> list[Job]:
        """Give each waiting trial the outcome of the trial it waits for, once that has one; returns the jobs
        whose original's driver died with no one else running the architecture: they train here."""
        now = time.monotonic()
        if not self._waiting or (not force and now - self._last_settle < SETTLE_INTERVAL):
            return []
        self._last_settle = now
        storage = self._study._storage
        orphans = []
        for number, (job, trial_id) in list(self._waiting.items()):
            original = storage.get_trial(trial_id)
            if original.state == TrialState.RUNNING and not self._liveness.is_dead(original):
                continue
            del self._waiting[number]
            trial, reason = job.trial, original.user_attrs.get(attrs.REASON, "")
            if original.state == TrialState.COMPLETE:
                self._teller.reuse(trial, original.number)
            elif original.state == TrialState.PRUNED:
                copy_results(trial, original)
                trial.set_user_attr(attrs.DUPLICATE_OF, original.number)
                self._teller.tell(
                    trial, TrialState.PRUNED, reason=f"same architecture as trial {original.number}: {reason}"
                )
            elif original.state == TrialState.FAIL and not original.user_attrs.get(attrs.INTERRUPTED):
                self._teller.fail(trial, f"same architecture as trial {original.number}, which failed: {reason}")
            else:  # its driver died: look again, and train it here if no one else runs it
                trial.set_user_attr(attrs.WAITING_FOR, None)
                other = self.original(job.arch.id, trial.number)
                if other is not None:
                    self.wait_for(job, other)
                else:
                    trial.set_user_attr(attrs.NOT_TRAINED, False)
                    orphans.append(job)
        return orphans
