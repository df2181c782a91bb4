"""The pieces that keep a search alive: storage retries, which driver owns a running trial, and the
memory guard that keeps an architecture too big for the machine from training."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy.exc
from optuna.trial import TrialState

from nas.study import StudyConfig, attrs
from nas.study.driver import SearchDriver
from nas.study.errors import StorageUnavailableError
from nas.study.liveness import STALE_SECONDS, driver_is_dead, recover_interrupted
from nas.study.resilient import ResilientStorage, is_connection_error, outage_seconds
from tests.support.studies import ACCURACY_AND_FLOPS, TINY_SPACE, kws_study


class _Flaky(optuna.storages.InMemoryStorage):
    """In-memory storage whose next ``failures`` calls of ``method`` raise what a dropped connection raises."""

    def __init__(self, method: str, failures: int, *, commit_first: bool = False) -> None:
        super().__init__()
        self.method, self.failures, self.commit_first = method, failures, commit_first

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name != super().__getattribute__("method") or not callable(value):
            return value

        def flaky(*args: Any, **kwargs: Any) -> Any:
            if self.failures > 0:
                self.failures -= 1
                if self.commit_first:
                    value(*args, **kwargs)  # the write reached the database; only the answer was lost
                cause = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
                raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.") from cause
            return value(*args, **kwargs)

        return flaky


def _resilient(inner: optuna.storages.BaseStorage, outage: float = 60.0) -> tuple[ResilientStorage, list[float]]:
    sleeps: list[float] = []
    return ResilientStorage(inner, description="test db", outage=outage, sleep=sleeps.append), sleeps


def test_connection_failures_are_retried_with_growing_backoff() -> None:
    storage, sleeps = _resilient(_Flaky("create_new_trial", failures=4))
    study = optuna.create_study(storage=storage)
    study.ask()
    assert storage.retries == 4 and sleeps == [0.5, 1.0, 2.0, 4.0]
    assert len(study.trials) == 1


def test_a_tell_committed_before_its_connection_broke_is_not_an_error() -> None:
    inner = _Flaky("set_trial_state_values", failures=0, commit_first=True)
    storage, _ = _resilient(inner)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    inner.failures = 1
    study.tell(trial, 1.0)
    assert study.trials[0].state == TrialState.COMPLETE and study.trials[0].value == 1.0


def test_an_outage_longer_than_allowed_stops_with_a_message_that_says_how_to_resume() -> None:
    storage, _ = _resilient(_Flaky("create_new_trial", failures=10**6), outage=0.0)
    study = optuna.create_study(storage=storage)
    with pytest.raises(StorageUnavailableError, match=r"^storage: test db unreachable for \d+ s .*resume"):
        study.ask()


def test_other_errors_are_not_retried() -> None:
    storage, sleeps = _resilient(optuna.storages.InMemoryStorage())
    with pytest.raises(KeyError):
        storage.get_study_id_from_name("no such study")
    assert sleeps == [] and not is_connection_error(ValueError("bad value"))


def test_outage_seconds_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CENTAURUS_STORAGE_OUTAGE_SECONDS", "12.5")
    assert outage_seconds() == 12.5
    monkeypatch.setenv("CENTAURUS_STORAGE_OUTAGE_SECONDS", "soon")
    with pytest.raises(StorageUnavailableError, match="CENTAURUS_STORAGE_OUTAGE_SECONDS: got 'soon'"):
        outage_seconds()


# ---------------------------------------------------------------------------- trial owners
def _running(study: optuna.Study, **user_attrs: Any) -> optuna.trial.FrozenTrial:
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    for key, value in user_attrs.items():
        trial.set_user_attr(key, value)
    return study.trials[trial.number]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_trials_of_dead_drivers_are_recovered() -> None:
    study = optuna.create_study()
    here, now = socket.gethostname(), datetime.datetime.now().timestamp()
    live = _running(study, **{attrs.DRIVER: {"id": "a", "host": here, "pid": os.getppid()}})
    dead = _running(study, **{attrs.DRIVER: {"id": "b", "host": here, "pid": _dead_pid()}})
    mine = _running(study, **{attrs.DRIVER: {"id": "me", "host": here, "pid": _dead_pid()}})
    remote_fresh = _running(study, **{attrs.DRIVER: {"id": "c", "host": "elsewhere", "pid": 1}, attrs.HEARTBEAT: now})
    remote_stale = _running(
        study, **{attrs.DRIVER: {"id": "d", "host": "elsewhere", "pid": 1}, attrs.HEARTBEAT: now - STALE_SECONDS - 1}
    )
    just_asked = _running(study)  # no owner yet: young, so alive
    assert [
        driver_is_dead(t, alive={"id": "me"}) for t in (live, dead, mine, remote_fresh, remote_stale, just_asked)
    ] == [
        False,
        True,
        False,
        False,
        True,
        False,
    ]
    assert recover_interrupted(study, alive={"id": "me"}) == 2
    failed = {t.number for t in study.trials if t.user_attrs.get(attrs.INTERRUPTED)}
    assert failed == {dead.number, remote_stale.number}
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert sorted(t.user_attrs[attrs.RESUMED_FROM] for t in waiting) == sorted(failed)


# --------------------------------------------------------------------------- memory guard
def test_an_architecture_bigger_than_the_machine_is_pruned_before_training(tmp_path: Path, kws_root: Path) -> None:
    predicted_huge = {"batch": 200_000}  # predicted peak memory: hundreds of GiB
    config = StudyConfig.from_dict(
        kws_study(
            "huge", tmp_path, TINY_SPACE, ACCURACY_AND_FLOPS, data=kws_root, budget={"trials": 1}, cost=predicted_huge
        )
    )
    driver = SearchDriver(config)
    assert driver._new_trial() is None  # settled without training (no Ray needed)
    trial = driver.study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert "exceeds this machine's memory" in trial.user_attrs[attrs.REASON]
    assert "predicted at batch 200000" in trial.user_attrs[attrs.REASON]


def test_a_trial_created_twice_by_a_retry_is_owned_like_any_other() -> None:
    """The insert that creates a trial carries its owner, so a duplicate made by a retried create
    (the first commit landed, its answer was lost) is recognised as that driver's and recovered
    once the driver is gone."""
    inner = _Flaky("create_new_trial", failures=1, commit_first=True)
    storage, _ = _resilient(inner)
    owner = {"id": "gone", "host": socket.gethostname(), "pid": _dead_pid()}
    storage.new_trial_user_attrs = lambda: {attrs.DRIVER: owner, attrs.HEARTBEAT: 0.0}
    study = optuna.create_study(storage=storage)
    study.ask()
    assert [t.user_attrs[attrs.DRIVER] for t in study.trials] == [owner, owner]  # the orphan and the one asked
    assert recover_interrupted(study, alive={"id": "resumer"}) == 2


_OPEN_AT_ONCE = """
import sys, time
from nas.study.storage import make_storage
start = float(sys.argv[2])
while time.time() < start:
    pass
make_storage(sys.argv[1])
"""


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    """A driver and a dashboard (or two drivers) starting together race to create the schema: no loser fails."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    start = f"{__import__('time').time() + 4.0}"  # after every interpreter has imported the package
    openers = [
        subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, url, start], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    failures = [p.stderr.read() for p in openers if p.wait(timeout=60) != 0]
    assert not failures, failures[0]
