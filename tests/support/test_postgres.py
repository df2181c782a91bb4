"""The throw-away PostgreSQL server the storage tests rely on: it can be taken away and brought back
with its data (what outage tests do), and a killed test session does not leak it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import optuna
import psycopg
import pytest

from tests.support.postgres import REPO, Postgres, PostgresServer, find_binaries, sweep_stale


def test_stop_and_start_keep_the_url_and_the_studies(restartable_postgres_server: Postgres, postgres_url: str) -> None:
    server = restartable_postgres_server
    study = optuna.create_study(study_name="kept", storage=postgres_url, directions=["minimize"])
    study.enqueue_trial({"x": 1.0})
    study.optimize(lambda trial: trial.suggest_float("x", 0, 2), n_trials=1)
    server.stop()
    assert not server.reachable()
    with pytest.raises(psycopg.OperationalError):
        server.connect().close()
    server.stop()  # stopping a stopped server is a no-op
    server.start()
    server.start()  # and so is starting a running one
    again = optuna.load_study(study_name="kept", storage=postgres_url)
    assert [trial.values for trial in again.trials] == [[1.0]]


def test_a_killed_session_leaves_no_server_behind(restartable_postgres_server: Postgres) -> None:
    """SIGKILL a process that started a server: the next session's sweep stops that server and
    deletes its folders (the name of the server's folder says which process made it)."""
    assert isinstance(restartable_postgres_server, PostgresServer)
    script = (
        "import time\n"
        "from tests.support.postgres import PostgresServer, find_binaries\n"
        "server = PostgresServer(find_binaries())\n"
        "server.start()\n"
        "print(server.run_dir, server.socket_dir, server.port, flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        run_dir, socket_dir, port = process.stdout.readline().split()
    finally:
        process.kill()
        process.wait()
    orphan = psycopg.connect(host="127.0.0.1", port=int(port), user="postgres", dbname="postgres", autocommit=True)
    orphan.close()  # still running after its session died
    binaries = find_binaries()
    assert binaries is not None
    sweep_stale(restartable_postgres_server.root, binaries)
    assert not Path(run_dir).exists() and not Path(socket_dir).exists()
    assert restartable_postgres_server.run_dir.exists()  # a live session's server is left alone
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(host="127.0.0.1", port=int(port), user="postgres", connect_timeout=1).close()
        except psycopg.OperationalError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the orphaned server on port {port} still answers")
