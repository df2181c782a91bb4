"""Which driver runs a trial, whether it is still alive, and the recovery of a dead driver's trials.

Several drivers (on one machine or many) may share a study. Each stamps the trials it runs with
its identity (``{"id", "host", "pid"}``) and renews a heartbeat on them every
:data:`HEARTBEAT_SECONDS`. A trial left RUNNING belongs to a dead driver when that driver's process
is gone (on this machine) or its heartbeat is older than :data:`STALE_SECONDS` (elsewhere); only
such trials are recovered: failed as ``interrupted`` and their parameters re-enqueued, each by
exactly one of several drivers recovering at once.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterable
from typing import Any

import optuna
from optuna.trial import TrialState

from nas.study import attrs
from nas.study.resilient import ResilientStorage

HEARTBEAT_SECONDS = 10.0
"""How often a driver renews the heartbeat of its running trials."""
STALE_SECONDS = 120.0
"""A running trial whose heartbeat is older than this belongs to a dead driver (on another machine)."""


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def driver_is_dead(trial: optuna.trial.FrozenTrial, *, now: float | None = None, alive: dict | None = None) -> bool:
    """Whether the driver that runs ``trial`` (RUNNING in storage) has stopped.

    Its own process table answers for a driver on this machine; for one elsewhere, a heartbeat
    older than :data:`STALE_SECONDS` does. ``alive`` (the asking driver) is never dead.
    """
    now = time.time() if now is None else now
    owner = trial.user_attrs.get(attrs.DRIVER)
    if isinstance(owner, dict):
        if alive is not None and owner.get("id") == alive.get("id"):
            return False
        if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
            same_process = owner["pid"] == os.getpid()
            return not same_process and not pid_alive(owner["pid"])
    beat = trial.user_attrs.get(attrs.HEARTBEAT)
    if not isinstance(beat, (int, float)):
        started = trial.datetime_start
        beat = started.timestamp() if started is not None else 0.0
    return now - float(beat) > STALE_SECONDS


def recover_interrupted(study: optuna.Study, *, alive: dict | None = None) -> int:
    """Fail the trials a dead driver left RUNNING (marked ``interrupted``) and re-enqueue their parameters.

    Their parameters come back as WAITING trials, which the next ``ask`` returns first; the failed
    originals do not count against the trial budget, so no completed trial is lost or repeated.
    Trials of drivers still alive (see :func:`driver_is_dead`) are left alone.
    """
    recovered = 0
    now = time.time()
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if driver_is_dead(frozen, now=now, alive=alive):
            recovered += interrupt_trial(study, frozen, "the driver stopped while this trial ran; re-enqueued")
    return recovered


def interrupt_trial(study: optuna.Study, frozen: optuna.trial.FrozenTrial, reason: str) -> bool:
    """Fail one RUNNING trial as ``interrupted`` with ``reason`` and re-enqueue its parameters (with its
    finished rungs, which are not trained again); False when another driver did it first."""
    storage = study._storage
    try:  # attributes must be written before the state changes; another driver may recover it first
        storage.set_trial_user_attr(frozen._trial_id, attrs.INTERRUPTED, True)
        storage.set_trial_user_attr(frozen._trial_id, attrs.REASON, reason)
        if isinstance(storage, ResilientStorage):
            won = storage.finish_exclusively(frozen._trial_id, TrialState.FAIL)
        else:
            won = storage.set_trial_state_values(frozen._trial_id, TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        won = False
    if not won:
        return False  # another driver failed it first, and re-enqueues it
    carried = {attrs.RESUMED_FROM: frozen.number}
    carried_keys = (attrs.ARCH_ID, attrs.RUNGS, attrs.TRAIN_SECONDS, attrs.CONFIRMS, attrs.ESTIMATE, attrs.CONFIRM_PICK)
    for key in carried_keys:  # finished rungs are not trained again; a confirmation stays one
        if frozen.user_attrs.get(key) is not None:
            carried[key] = frozen.user_attrs[key]
    study.enqueue_trial(frozen.params, user_attrs=carried, skip_if_exists=False)
    return True


class Liveness:
    """This driver's identity on the trials it runs, their heartbeat, and recovery of dead drivers' trials."""

    def __init__(self, study: optuna.Study) -> None:
        self.study = study
        self.identity: dict[str, Any] = {"id": uuid.uuid4().hex[:12], "host": socket.gethostname(), "pid": os.getpid()}
        self._last_beat = 0.0
        storage = getattr(study, "_storage", None)  # Optuna keeps the storage object it was given
        if isinstance(storage, ResilientStorage):  # owner and heartbeat written with the trial, in one insert
            storage.new_trial_user_attrs = lambda: {attrs.DRIVER: self.identity, attrs.HEARTBEAT: time.time()}

    def claim(self, trial: optuna.Trial) -> None:
        """Stamp a just-asked trial as this driver's (the insert did, unless ``ask`` took an enqueued trial)."""
        if trial.user_attrs.get(attrs.DRIVER) != self.identity:
            trial.set_user_attr(attrs.DRIVER, self.identity)
            trial.set_user_attr(attrs.HEARTBEAT, time.time())

    def beat(self, trials: Iterable[optuna.Trial]) -> None:
        """Tell other drivers (and ``resume``) that these trials (running, paused, waiting) are alive."""
        now = time.time()
        if now - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = now
        for trial in trials:
            trial.set_user_attr(attrs.HEARTBEAT, now)

    def is_dead(self, trial: optuna.trial.FrozenTrial) -> bool:
        """Whether ``trial``'s driver has stopped (never true of this driver's own trials)."""
        return driver_is_dead(trial, alive=self.identity)

    def recover(self) -> int:
        """:func:`recover_interrupted` for this driver: the trials of dead drivers; returns how many."""
        return recover_interrupted(self.study, alive=self.identity)

    def release(self, reason: str) -> int:
        """This driver stops early (Ctrl-C): its own RUNNING trials (in flight, paused between rungs,
        waiting for a duplicate) are failed as ``interrupted`` and re-enqueued at once, so ``status``
        says so now and ``resume`` continues them; returns how many."""
        own = [
            frozen
            for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if isinstance(frozen.user_attrs.get(attrs.DRIVER), dict)
            and frozen.user_attrs[attrs.DRIVER].get("id") == self.identity["id"]
        ]
        return sum(interrupt_trial(self.study, frozen, reason) for frozen in own)
