"""SIGKILL the driver in the middle of a search, then ``resume``: no completed trial is lost or
repeated, interrupted trials are re-run from their parameters, and the trial budget is met."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import psutil
import pytest
import yaml
from optuna.trial import TrialState

from nas.study import StudyConfig, attrs
from tests.support.studies import stored_study, trained_study

BUDGET = 6


def _write_config(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "study.yaml"
    config = trained_study(
        tmp_path, data, name="killed", budget={"trials": BUDGET}, training={"budget": "1.5s", "batch_size": 4}
    )
    path.write_text(yaml.safe_dump(config))
    return path


def _states(config: StudyConfig) -> dict[int, optuna.trial.FrozenTrial]:
    if not (config.output_dir / "study.db").exists():
        return {}
    try:  # stored_study opens with make_storage: the driver may be creating the schema right now (see _open_database)
        study = stored_study(config)
    except KeyError:
        return {}
    return {trial.number: trial for trial in study.get_trials()}


def _kill_session(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the driver and everything it started (its local Ray instance runs in its session)."""
    session = os.getsid(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for other in psutil.process_iter(["pid"]):
        try:
            if os.getsid(other.info["pid"]) == session:
                other.kill()
        except (ProcessLookupError, psutil.Error):
            pass


@pytest.mark.slow
def test_sigkill_then_resume_keeps_every_completed_trial(tmp_path: Path, kws_root: Path) -> None:
    path = _write_config(tmp_path, kws_root)
    config = StudyConfig.load(path)
    command = [sys.executable, "-m", "nas.cli", "search", str(path), "--quiet"]
    log = (tmp_path / "driver.log").open("wb")
    driver = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        trials = _states(config)
        complete = [t for t in trials.values() if t.state == TrialState.COMPLETE]
        running = [t for t in trials.values() if t.state == TrialState.RUNNING]
        if len(complete) >= 2 and running:
            break
        assert driver.poll() is None, (tmp_path / "driver.log").read_text()
        time.sleep(0.1)
    else:
        pytest.fail("the search never had two complete trials and one running")
    _kill_session(driver)

    before = _states(config)
    done_before = {n: t for n, t in before.items() if t.state.is_finished()}
    left_running = [n for n, t in before.items() if t.state == TrialState.RUNNING]
    assert left_running

    resumed = subprocess.run(
        [sys.executable, "-m", "nas.cli", "resume", str(config.output_dir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = _states(config)

    for number, trial in done_before.items():  # nothing finished is lost or changed
        assert after[number].state == trial.state and after[number].values == trial.values
    for number in left_running:  # the interrupted ones are failed, flagged, and re-run from their parameters
        assert after[number].state == TrialState.FAIL and after[number].user_attrs[attrs.INTERRUPTED]
        reruns = [t for t in after.values() if t.user_attrs.get(attrs.RESUMED_FROM) == number]
        assert len(reruns) == 1 and reruns[0].params == after[number].params
        assert reruns[0].state.is_finished()
    resumed_from = [t.user_attrs[attrs.RESUMED_FROM] for t in after.values() if attrs.RESUMED_FROM in t.user_attrs]
    assert sorted(resumed_from) == sorted(left_running)  # nothing completed was repeated
    counted = [t for t in after.values() if t.state.is_finished() and not t.user_attrs.get(attrs.INTERRUPTED)]
    assert len(counted) == BUDGET
    assert not [t for t in after.values() if t.state in (TrialState.RUNNING, TrialState.WAITING)]
