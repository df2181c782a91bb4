"""Ctrl-C on a piped search (issue 20): it stops within seconds, keeps what finished, marks what ran.

A real ``centaurus-nas search`` subprocess on Ray, its output piped, started with SIGINT *ignored*
as a background job of a non-interactive shell inherits it (``search ... | tee log &`` in a CI
script): that is how an earlier ``kill -INT`` went unheard. It is interrupted while a trial trains.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nas.study import attrs
from nas.study.stopping import StopOnInterrupt
from tests.nas.test_console import write_study

SECONDS_TO_STOP = 3.0
"""From SIGINT to the one-line message: the loop checks the flag several times a second."""
SECONDS_TO_EXIT = 30.0
"""From SIGINT to the process's end, Ray's shutdown included (generous: the test machine is shared)."""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_sigint_stops_a_piped_search_and_says_how_to_resume(tmp_path: Path, kws_root: Path) -> None:
    training = {"budget": "6s", "batch_size": 4}  # one trial at a time: trial 0 ends, trial 1 is then interrupted
    config = write_study(tmp_path, kws_root, name="stopped", training=training, fidelity=None)
    process = subprocess.Popen(
        [sys.executable, "-m", "nas.cli", "search", str(config)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_ignore_sigint,
    )
    lines: list[str] = []
    started = threading.Event()
    stopping: dict[str, float] = {}

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "] trial 1 starts rung 0 " in line:
                started.set()
            if line.startswith("interrupted: "):
                stopping["message"] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(180), "\n".join(lines)
        time.sleep(0.5)  # trial 1 is training now (for 6 s), trial 0 is complete
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=SECONDS_TO_EXIT)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(5)
    output = "\n".join(lines)
    assert code == 130, output
    assert "message" in stopping and stopping["message"] - sent < SECONDS_TO_STOP, output
    runs = tmp_path / "runs" / "stopped"
    message = [line for line in lines if line.startswith("interrupted: ")]
    assert message == [
        f"interrupted: 1 finished trial(s) kept (see {runs / 'trials.csv'}), 1 running trial(s) marked interrupted;"
        f" continue with: centaurus-nas resume {runs}"
    ]
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    study = optuna.load_study(study_name="stopped", storage=f"sqlite:///{runs / 'study.db'}")
    states = [(t.state, bool(t.user_attrs.get(attrs.INTERRUPTED))) for t in study.trials]
    expected = [(TrialState.COMPLETE, False), (TrialState.FAIL, True), (TrialState.WAITING, False)]
    assert states == expected, "the finished trial kept; the running one marked, and re-enqueued for resume"
    assert "interrupted by the user" in study.trials[1].user_attrs[attrs.REASON]
    assert study.trials[2].user_attrs[attrs.RESUMED_FROM] == 1, "the re-enqueued run of trial 1"


def test_the_first_sigint_in_the_loop_only_asks_to_stop_and_a_second_one_raises() -> None:
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN under a background job of a non-interactive shell
    with StopOnInterrupt() as stop:
        with stop.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            assert stop.requested
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
        with pytest.raises(KeyboardInterrupt):  # outside the loop: at once
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is before
