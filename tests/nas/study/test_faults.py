"""Fault injection against the real engine (Optuna, Ray, SQLite or PostgreSQL) with sleeping trials.

Each test injects one kind of fault many times and checks the promise of the platform: the search
finishes its budget and no completed trial is lost or repeated. Trials sleep instead of training
(see ``fake_trials``) so that the faults, not the training, take the time.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import optuna
import psutil
import pytest
import ray
import yaml
from optuna.trial import TrialState

from nas.study import StudyConfig, attrs
from nas.study.driver import SearchDriver
from tests.nas.study.fake_trials import sleepy_trial_function
from tests.nas.study.test_search_ray import SPACE

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


def _config_data(tmp_path: Path, data: Path, **changes: Any) -> dict[str, Any]:
    return {
        "name": "faults",
        "task": "kws",
        "data": str(data),
        "space": SPACE,
        "objectives": {"accuracy": "maximize", "train_flops": "minimize"},
        "budget": {"trials": 30},
        "training": {"budget": "1steps"},
        "sampler": {"name": "random", "seed": 0},
        "resources": {"cpus": 1},
        "retries": 2,
        "keep_weights": False,
        "output": str(tmp_path / "runs"),
        **changes,
    }


def _write(tmp_path: Path, data: dict[str, Any], name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _trials(config: StudyConfig) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=config.name, storage=config.storage_url).get_trials()


def _counted(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """The trials that use the budget: all but those failed because their driver died."""
    return [t for t in trials if not t.user_attrs.get(attrs.INTERRUPTED)]


def _complete(trials: list[optuna.trial.FrozenTrial]) -> dict[int, tuple[float, ...]]:
    return {t.number: tuple(t.values) for t in trials if t.state == TrialState.COMPLETE}


def _check_nothing_lost_or_repeated(
    trials: list[optuna.trial.FrozenTrial], seen: dict[int, tuple[float, ...]], *, finished: bool = True
) -> None:
    """Every trial once seen complete is still complete with the same values; no interrupted trial ran
    twice; and once the search has finished, nothing is left running."""
    final = _complete(trials)
    assert {number: final.get(number) for number in seen} == seen
    reruns = [t.user_attrs[attrs.RESUMED_FROM] for t in trials if attrs.RESUMED_FROM in t.user_attrs]
    assert len(reruns) == len(set(reruns)), f"an interrupted trial was re-enqueued twice: {sorted(reruns)}"
    by_number = {t.number: t for t in trials}
    assert all(by_number[number].user_attrs.get(attrs.INTERRUPTED) for number in reruns)
    if finished:
        assert not [t.number for t in trials if t.state == TrialState.RUNNING]


# ----------------------------------------------------------------------- Ray workers killed
def _kill_trial_workers(stop: threading.Event, killed: list[int], rng: random.Random, most: int) -> None:
    """SIGKILL a Ray worker of this process's Ray while it runs a trial, at random moments, ``most`` times."""
    while not stop.is_set() and len(killed) < most:
        time.sleep(rng.uniform(0.3, 1.5))
        busy = []
        for process in psutil.process_iter(["pid", "cmdline"]):
            try:
                running = "ray::sleepy_trial" in " ".join(process.info["cmdline"] or [])
                if running and os.getpid() in {parent.pid for parent in process.parents()}:
                    busy.append(process)
            except psutil.Error:
                continue
        if busy:
            victim = rng.choice(busy)
            try:
                victim.kill()
                killed.append(victim.pid)
            except psutil.Error:
                pass


def test_random_worker_kills_during_30_trials(tmp_path: Path, kws_root: Path) -> None:
    config = StudyConfig.from_dict(_config_data(tmp_path, kws_root))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="centaurus-nas-fault-tests")
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_trial_workers, args=(stop, killed, random.Random(0), 8), daemon=True)
    try:
        killer.start()
        outcome = SearchDriver(config, trial_function=sleepy_trial_function(0.8)).run()
    finally:
        stop.set()
        killer.join()
        ray.shutdown()
    trials = _trials(config)
    assert len(killed) >= 4, "the killer should have found busy workers"
    assert outcome.complete + outcome.failed + outcome.pruned == len(_counted(trials)) == 30
    attempts = [attempt for t in trials for attempt in t.user_attrs.get(attrs.ATTEMPTS, [])]
    assert len(attempts) == len(killed), "every killed run is recorded on its trial, with the reason"
    assert all("Worker" in attempt["error"] or "worker" in attempt["error"] for attempt in attempts)
    for trial in trials:
        if trial.state == TrialState.FAIL:
            assert trial.user_attrs[attrs.REASON].startswith("lost 3 time(s) to dead workers")
    _check_nothing_lost_or_repeated(trials, _complete(trials))


# -------------------------------------------------------------------------- driver killed
def _driver(config_path: Path, log: Path, sleep: float, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.nas.study.fake_trials", str(config_path), "--sleep", str(sleep)]
    handle = log.open("ab")
    return subprocess.Popen(
        command,
        cwd=REPO,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )


def _wait_for_submission(log: Path, before: int, driver: subprocess.Popen[bytes], seconds: float = 90) -> None:
    """Wait until ``driver`` has submitted a trial (its log has more than ``before`` submissions) or exited."""
    deadline = time.monotonic() + seconds
    while log.read_text().count("starts rung") <= before and driver.poll() is None:
        assert time.monotonic() < deadline, f"timed out waiting for the driver\n{log.read_text()}"
        time.sleep(0.1)


@pytest.fixture
def ray_cluster():
    """A Ray head the drivers join: killing a driver leaves the cluster (and other drivers) running."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    yield cluster
    cluster.shutdown()


def test_driver_sigkilled_five_times_then_resumed(tmp_path: Path, kws_root: Path, ray_cluster) -> None:
    data = _config_data(tmp_path, kws_root, budget={"trials": 24}, ray={"address": ray_cluster.address})
    path = _write(tmp_path, data)
    config = StudyConfig.load(path)
    rng, log, seen = random.Random(1), tmp_path / "driver.log", {}
    kills = 0
    while kills < 5:
        started = log.read_text().count("starts rung") if log.exists() else 0
        driver = _driver(path, log, sleep=0.4)
        _wait_for_submission(log, started, driver)
        time.sleep(rng.uniform(0.0, 3.0))  # then kill at a random moment of the search
        if driver.poll() is not None:
            break  # finished its budget before the kill
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        kills += 1
        trials = _trials(config)
        _check_nothing_lost_or_repeated(trials, seen, finished=False)  # the killed driver's trials still run
        seen = _complete(trials)
    assert kills == 5, f"the budget ran out after {kills} kills; make trials slower\n{log.read_text()}"
    final = _driver(path, log, sleep=0.4)
    assert final.wait(timeout=120) == 0, log.read_text()
    trials = _trials(config)
    _check_nothing_lost_or_repeated(trials, seen)
    assert len(_counted(trials)) == 24
    interrupted = [t for t in trials if t.user_attrs.get(attrs.INTERRUPTED)]
    assert interrupted, "some kill hit a trial in flight"
    assert re.search(r"resume: \d+ interrupted trial", log.read_text())
