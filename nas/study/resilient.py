"""A storage that rides out short outages: retries lost connections with backoff, then gives up clearly.

A PostgreSQL server restarting, a network blip or a busy SQLite file must not end a search
whose workers are still training: every storage call that fails because the connection failed is
retried with exponential backoff (0.5 s doubling to 15 s) until ``outage_seconds`` have passed,
then :class:`StorageUnavailableError` stops the driver with a message that says how to resume.
Results that arrive during the outage wait in the driver and are told when the storage is back.

A storage that answers but refuses (SQLite's "database or disk is full", a read-only database, a
file that is not a database; PostgreSQL's full disk or read-only transaction) is not an outage:
:class:`StorageRefusedError` stops the driver at once, naming the cause and what to do.

Only connection failures are retried (SQLAlchemy's ``OperationalError``, ``InterfaceError`` and
``DisconnectionError``, or any error with one of those as its cause): a bad value fails at once.
A write whose commit reached the server just before the connection broke may be retried once
more; finishing a trial is made idempotent for that case (a second tell of the same state is
accepted). A new trial is created with its owner's attributes in the same insert
(``new_trial_user_attrs``), so a trial created twice that way is owned by its driver like any
other, and a later ``resume`` recognises it as its dead driver's and fails and re-enqueues it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from nas.study.errors import StorageRefusedError, StorageUnavailableError

OUTAGE_SECONDS_ENV = "CENTAURUS_STORAGE_OUTAGE_SECONDS"
DEFAULT_OUTAGE_SECONDS = 300.0
_FIRST_DELAY, _MAX_DELAY = 0.5, 15.0


def outage_seconds() -> float:
    """How long the driver waits for a lost storage: ``$CENTAURUS_STORAGE_OUTAGE_SECONDS`` or 300 s."""
    text = os.environ.get(OUTAGE_SECONDS_ENV)
    if text is None:
        return DEFAULT_OUTAGE_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise StorageUnavailableError(f"{OUTAGE_SECONDS_ENV}: got {text!r}; allowed: a number of seconds >= 0")
    return value


_REFUSALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("database or disk is full", "no space left on device", "could not extend file", "disk full"),
        "the disk holding the database is full; free space on it (or move the study) and run"
        " `centaurus-nas resume` on this study",
    ),
    (
        ("readonly database", "read-only", "read only", "permission denied"),
        "the database is read-only (file or folder permissions, a read-only mount, or a read-only role);"
        " make it writable and run `centaurus-nas resume` on this study",
    ),
    (
        ("file is not a database", "database disk image is malformed"),
        "the file is not an intact SQLite database; restore it from a copy or give the study a new storage",
    ),
)


def refusal(error: BaseException) -> tuple[str, str] | None:
    """``(the database's own words, what to do)`` when ``error`` (or its cause chain) is a storage refusing
    to work, else ``None``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        for needles, advice in _REFUSALS:
            if any(needle in text for needle in needles):
                words = str(getattr(current, "orig", None) or current).strip().splitlines() or [""]
                return words[0][:200], advice
        current = current.__cause__ or current.__context__
    return None


def refused_error(description: str, error: BaseException) -> StorageRefusedError | None:
    """The :class:`StorageRefusedError` for ``error``, if it is a refusal rather than an outage."""
    found = refusal(error)
    if found is None:
        return None
    headline, advice = found
    return StorageRefusedError(
        f"storage: {description} refused a write ({headline}): {advice}; every trial told before this is stored"
    )


def is_connection_error(error: BaseException) -> bool:
    """True when ``error`` (or anything in its cause chain) says the connection to the database failed."""
    import sqlalchemy.exc

    transient = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.DisconnectionError)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, transient):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def is_storage_error(error: BaseException) -> bool:
    """Whether ``error`` came from the database (SQLAlchemy), anywhere in its cause chain."""
    import sqlalchemy.exc

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.SQLAlchemyError):
            return True
        current = current.__cause__ or current.__context__
    return False


class ResilientStorage(BaseStorage):
    """Wraps a storage; every public storage method retries connection failures (see the module docs)."""

    def __init__(
        self,
        inner: BaseStorage,
        *,
        description: str,
        outage: float | None = None,
        on_retry: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.new_trial_user_attrs: Callable[[], dict[str, Any]] | None = None
        """Called for each new trial: user attributes it is created with (in the insert that creates it)."""
        self._inner = inner
        self._description = description
        self._outage = outage_seconds() if outage is None else outage
        self._on_retry = on_retry
        self._sleep = sleep
        self.retries = 0  # connection failures survived so far (reported by tests and benchmarks)

    @property
    def inner(self) -> BaseStorage:
        return self._inner

    def finish_exclusively(self, trial_id: int, state: TrialState) -> bool:
        """Finish a running trial only if no one else finishes it: True for exactly one of several callers.

        Optuna reads the state and then writes it (with SQLite, outside one transaction), so two
        drivers finishing the same trial both succeed; here a database trial changes state in one
        conditional ``UPDATE ... WHERE state = 'RUNNING'``, and only the caller whose update took
        it wins. A retry after a lost connection that finds the trial finished does not count as a win.
        """
        backend = getattr(self._inner, "_backend", self._inner)
        if not isinstance(backend, optuna.storages.RDBStorage):
            try:
                return bool(self._call("set_trial_state_values", trial_id, state, lenient=False))
            except optuna.exceptions.UpdateFinishedTrialError:
                return False

        def claim(_attempt: int) -> bool:
            import datetime

            import sqlalchemy
            from optuna.storages._rdb import models

            now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            table = models.TrialModel.__table__
            update = (
                sqlalchemy.update(table)
                .where(table.c.trial_id == trial_id, table.c.state == TrialState.RUNNING)
                .values(state=state, datetime_complete=now)
            )
            with backend.engine.begin() as connection:
                return connection.execute(update).rowcount == 1

        return bool(self._retry(claim))

    def _call(self, name: str, *args: Any, lenient: bool = True, **kwargs: Any) -> Any:
        method = getattr(self._inner, name)

        def call(attempt: int) -> Any:
            try:
                return method(*args, **kwargs)
            except optuna.exceptions.UpdateFinishedTrialError:
                retried_tell = lenient and attempt > 0 and name == "set_trial_state_values"
                if retried_tell and self._already_finished(*args, **kwargs):
                    return True  # the first attempt committed before its connection broke
                raise

        return self._retry(call)

    def _retry(self, function: Callable[[int], Any]) -> Any:
        """``function(attempt)``, retried on connection failures (see the module docs)."""
        started, delay, attempt = time.monotonic(), _FIRST_DELAY, 0
        while True:
            try:
                return function(attempt)
            except optuna.exceptions.UpdateFinishedTrialError:
                raise
            except Exception as error:
                refused = refused_error(self._description, error)
                if refused is not None:
                    raise refused from error
                if not is_connection_error(error):
                    raise
                waited = time.monotonic() - started
                if waited >= self._outage:
                    raise StorageUnavailableError(
                        f"storage: {self._description} unreachable for {waited:.0f} s (last error:"
                        f" {type(error).__name__}: {str(error).strip().splitlines()[0][:200]}); every trial told"
                        " before the outage is stored: run `centaurus-nas resume` on this study when it is back"
                        f" (wait longer with {OUTAGE_SECONDS_ENV})"
                    ) from error
                attempt += 1
                self.retries += 1
                if self._on_retry is not None:
                    self._on_retry(f"storage unreachable ({type(error).__name__}); retry {attempt} in {delay:.1f} s")
                self._sleep(min(delay, max(0.0, self._outage - waited)))
                delay = min(delay * 2, _MAX_DELAY)

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is None and self.new_trial_user_attrs is not None:
            template_trial = optuna.trial.create_trial(state=TrialState.RUNNING, user_attrs=self.new_trial_user_attrs())
        return self._call("create_new_trial", study_id, template_trial)

    def _already_finished(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        return self._inner.get_trial(trial_id).state == state

    def __getattr__(self, name: str) -> Any:  # anything beyond BaseStorage (e.g. remove_session) goes straight through
        return getattr(self._inner, name)


def _forward(name: str) -> Callable[..., Any]:
    def method(self: ResilientStorage, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of the wrapped storage, retried on connection failures."
    return method


_PUBLIC = [
    name
    for name in dir(BaseStorage)
    if not name.startswith("_") and callable(getattr(BaseStorage, name)) and name not in ResilientStorage.__dict__
]
for _name in _PUBLIC:
    setattr(ResilientStorage, _name, _forward(_name))
ResilientStorage.__abstractmethods__ = frozenset()
