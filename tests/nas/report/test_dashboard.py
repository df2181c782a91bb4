"""``centaurus-nas dashboard``: the live report server (HTTP, regeneration as trials finish) and
optuna-dashboard as a child process, separately and together through the command (stopped by Ctrl-C)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from nas.report import OptunaDashboard, ReportServer, free_port
from nas.report._dashboard import DashboardError
from nas.study import StudyConfigError, run_study
from tests.nas.report.studies import cost_config
from tests.support.studies import stored_study

REPO = Path(__file__).resolve().parents[3]


def _get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def test_report_server_answers_and_regenerates_after_new_trials(tmp_path: Path) -> None:
    config = cost_config(tmp_path, budget={"trials": 4}, constraints=[])
    run_study(config)
    with ReportServer(stored_study(config), config, port=0, interval=0.2, log=lambda message: None) as server:
        status, page = _get(server.url)
        assert status == 200 and "trials: 4 complete" in page
        assert '<noscript><meta http-equiv="refresh"' in page and 'fetch("version"' in page
        first = _get(server.url + "version")[1]
        assert first == server.version and first.endswith("-4")
        assert _get(server.url + "nothing")[0] == 404

        run_study(cost_config(tmp_path, budget={"trials": 9}, constraints=[]))  # the same study, 5 more
        _wait_for(lambda: _get(server.url + "version")[1].endswith("-9"), 30, "the report of 9 trials")
        status, page = _get(server.url)
        assert status == 200 and "trials: 9 complete" in page
        assert _get(server.url + "version")[1].endswith("-9")
        table = pd.read_csv(io.StringIO(_get(server.url + "trials.csv")[1]))
        assert table["number"].tolist() == list(range(9))
        renders = server.renders
        assert server.refresh() is False and server.renders == renders  # nothing new: no re-render
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=2)


def test_report_server_port_in_use(tmp_path: Path) -> None:
    config = cost_config(tmp_path, budget={"trials": 2}, constraints=[])
    run_study(config)
    with ReportServer(stored_study(config), config, port=0, log=lambda message: None) as first:
        second = ReportServer(stored_study(config), config, port=first.port, log=lambda message: None)
        with pytest.raises(StudyConfigError, match="--report-port: got"):
            second.start()


def test_optuna_dashboard_serves_the_study(tmp_path: Path) -> None:
    config = cost_config(tmp_path, budget={"trials": 3}, constraints=[])
    run_study(config)
    log = tmp_path / "optuna-dashboard.log"
    with OptunaDashboard(config.storage_url, port=0, log_path=log).start(timeout=90) as dashboard:
        assert dashboard.running()
        status, _ = _get(dashboard.url)
        assert status == 200
        status, body = _get(dashboard.url + "api/studies")
        assert status == 200 and f'"study_name": "{config.name}"' in json.dumps(json.loads(body))  # its API lists it
        process = dashboard.process
        assert process is not None
    assert process.poll() is not None and not dashboard.running()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(dashboard.url, timeout=2)


def test_optuna_dashboard_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DashboardError, match=f"--port: got {port}"):
            OptunaDashboard(f"sqlite:///{tmp_path / 'x.db'}", port=port).start()


def test_dashboard_command_prints_both_urls_and_stops_both_on_ctrl_c(tmp_path: Path) -> None:
    config = cost_config(tmp_path, budget={"trials": 3}, constraints=[])
    run_study(config)
    report_port, dashboard_port = free_port(), free_port()
    code = (
        "import sys; from tests.nas.report.studies import cli;"
        f" sys.exit(cli(['dashboard', {str(config.output_dir)!r}, '--port', '{dashboard_port}',"
        f" '--report-port', '{report_port}', '--interval', '1']))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "DISPLAY": ""}
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not any("Ctrl-C stops both" in line for line in lines):
            line = process.stdout.readline()
            assert line, "the command ended early:\n" + "".join(lines)
            lines.append(line)
        printed = "".join(lines)
        assert f"http://localhost:{report_port}/" in printed and f"http://localhost:{dashboard_port}/" in printed
        assert re.search(rf"ssh -N -L {report_port}:localhost:{report_port} -L {dashboard_port}:", printed)
        assert _get(f"http://localhost:{report_port}/")[0] == 200
        assert _get(f"http://localhost:{dashboard_port}/")[0] == 200
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, rest
    assert "stopped the report server and optuna-dashboard" in rest
    for port in (report_port, dashboard_port):
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://localhost:{port}/", timeout=2)
