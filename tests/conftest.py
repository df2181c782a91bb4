"""Fixtures every test folder shares: the study storages (SQLite, a journal file, PostgreSQL).

PostgreSQL comes from ``$CENTAURUS_TEST_POSTGRES_URL`` when set (a server the user runs: the tests
create and drop their own databases on it and never stop it), else from a throw-away server the
session starts on first use and deletes at its end (:mod:`tests.support.postgres`). Without either,
the PostgreSQL tests are skipped, except on CI (``$CI`` set), where that is a failure: a storage
backend nobody tests is a backend that breaks unnoticed.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

from tests.support.postgres import (
    ExternalPostgres,
    Postgres,
    PostgresServer,
    PostgresUnavailable,
    database_name,
    find_binaries,
)

POSTGRES_URL_ENV = "CENTAURUS_TEST_POSTGRES_URL"
STORAGES = ("sqlite", "journal", "postgresql")


def _unavailable(reason: str) -> NoReturn:
    message = f"PostgreSQL tests: {reason}; run scripts/ensure-postgres (root, Debian) or set ${POSTGRES_URL_ENV}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (failing because $CI is set)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Postgres:
    """The session's PostgreSQL server. ``can_restart`` is true only for the throw-away one, whose
    ``stop(mode="fast")`` / ``start()`` a test may call to take the database away and bring it back
    (same port, same data); ``ensure_running()`` undoes a stop a failed test left behind."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        external = ExternalPostgres(url)
        try:
            external.connect().close()
        except psycopg.Error as error:
            pytest.fail(f"{POSTGRES_URL_ENV}: cannot connect to {external!r} ({error})", pytrace=False)
        return external
    binaries = find_binaries()
    if binaries is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin")
    try:
        server = PostgresServer(binaries)
    except PostgresUnavailable as error:
        _unavailable(str(error))
    request.addfinalizer(server.close)  # also runs after Ctrl-C: pytest tears the session down first
    if server.fallback_reason:
        warnings.warn(f"throw-away PostgreSQL server: {server.fallback_reason}", stacklevel=1)
    server.start()
    return server


@pytest.fixture
def restartable_postgres_server(postgres_server: Postgres) -> Postgres:
    """The session's server where the tests may stop and start it; skips on a user's own server."""
    if not postgres_server.can_restart:
        pytest.skip(f"{POSTGRES_URL_ENV} names a server the tests did not start: they never stop it")
    return postgres_server


@pytest.fixture
def postgres_url(postgres_server: Postgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """The storage URL of a fresh, empty database of its own for this test."""
    postgres_server.ensure_running()
    name = database_name(request.node.name)
    url = postgres_server.create_database(name)
    yield url
    postgres_server.ensure_running()
    postgres_server.discard_database(name)


@pytest.fixture(params=STORAGES)
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty storage of each kind a study may use: an SQLite file, a journal file (neither
    exists yet), and a PostgreSQL database (exists, empty). PostgreSQL is started only when a test
    with this id runs."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'storage' / 'study.db'}"
    if request.param == "journal":
        return f"journal:{tmp_path / 'storage' / 'study.log'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(autouse=True)
def _no_ray_left_connected() -> Iterator[None]:
    """Shut down a Ray instance a test left connected in this process (a training study's default Ray backend
    connects when its driver is created): the next test's ``ray.init`` would fail with "called twice"."""
    yield
    import sys

    ray = sys.modules.get("ray")  # never import Ray for a test that did not
    if ray is not None and ray.is_initialized():
        ray.shutdown()
