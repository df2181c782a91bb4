"""Searches that train on Ray workers: multi-fidelity bookkeeping, a killed worker, a removed node.

Real Optuna, real Ray (a local instance or a ``ray.cluster_utils.Cluster``), real training on the
tiny tone corpus; each trial trains a few steps.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import psutil
import pytest
import ray
from optuna.trial import TrialState

from nas.study import SearchOutcome, StudyConfig, attrs, run_study
from nas.study.driver import SearchDriver
from tests.support.studies import stored_study, trained_config


@pytest.fixture
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="centaurus-nas-tests")
    yield
    ray.shutdown()


def test_multi_fidelity_search_keeps_full_fidelity_results_only_in_the_front(
    tmp_path: Path, kws_root: Path, local_ray: None
) -> None:
    config = trained_config(tmp_path, kws_root, budget={"trials": 6}, fidelity={"min_fraction": 0.5, "eta": 2})
    outcome = run_study(config)
    study = stored_study(config)
    assert outcome.complete + outcome.pruned + outcome.failed == 6 and outcome.failed == 0
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert complete, "ASHA promotes the best floor(n/eta) of each rung: some trial reaches full fidelity"
    for trial in complete:
        rungs = trial.user_attrs[attrs.RUNGS]
        assert [rung["fraction"] for rung in rungs] == [0.5, 1.0]
        assert [rung["budget"] for rung in rungs] == ["2steps", "3steps"]  # 0.5 x 3 steps rounds to 2
        assert trial.values[0] == trial.user_attrs[attrs.METRICS]["accuracy"] == rungs[-1]["metrics"]["accuracy"]
        assert trial.values[1] == trial.user_attrs[attrs.COST]["train_flops"]
        assert Path(trial.user_attrs[attrs.WEIGHTS]).is_file()
        assert trial.user_attrs[attrs.TRAINING]["steps"] == 3
    for trial in study.get_trials(states=(TrialState.PRUNED,)):
        assert [rung["fraction"] for rung in trial.user_attrs[attrs.RUNGS]] == [0.5]
        assert "stopped after rung 0" in trial.user_attrs[attrs.REASON]


def _descends_from_us(process: psutil.Process) -> bool:
    try:
        return os.getpid() in {parent.pid for parent in process.parents()}
    except psutil.Error:
        return False


def _kill_first_trial_worker(stop: threading.Event, killed: list[int]) -> None:
    """SIGKILL the first Ray worker process seen executing ``run_trial`` (its process title says so).

    Only workers descended from this test process: another Ray instance on the machine (a search a
    developer is running) is not this test's to kill.
    """
    while not stop.is_set() and not killed:
        for process in psutil.process_iter(["pid", "cmdline"]):
            if "ray::run_trial" in " ".join(process.info["cmdline"] or []) and _descends_from_us(process):
                process.kill()
                killed.append(process.info["pid"])
                return
        time.sleep(0.05)


def _search_killing_one_worker(config: StudyConfig) -> tuple[SearchOutcome, list[int]]:
    """Run the search while a thread kills the first trial worker it sees: (outcome, pids killed)."""
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_first_trial_worker, args=(stop, killed), daemon=True)
    killer.start()
    try:
        return run_study(config), killed
    finally:
        stop.set()
        killer.join()


def test_a_killed_worker_is_retried_and_the_search_completes(tmp_path: Path, kws_root: Path, local_ray: None) -> None:
    config = trained_config(tmp_path, kws_root, retries=1, training={"budget": "2s", "batch_size": 4})
    outcome, killed = _search_killing_one_worker(config)
    assert killed, "the test never saw a trial worker to kill"
    study = stored_study(config)
    assert outcome.complete + outcome.pruned + outcome.failed == 4
    hit = [trial for trial in study.trials if trial.user_attrs.get(attrs.ATTEMPTS)]
    assert len(hit) == 1
    error = hit[0].user_attrs[attrs.ATTEMPTS][0]["error"]
    assert "Worker" in error or "worker" in error
    assert hit[0].state == TrialState.COMPLETE  # retried once on a fresh worker, then finished


def test_a_worker_killed_more_often_than_allowed_fails_the_trial(
    tmp_path: Path, kws_root: Path, local_ray: None
) -> None:
    config = trained_config(tmp_path, kws_root, retries=0, training={"budget": "2s", "batch_size": 4})
    outcome, _ = _search_killing_one_worker(config)
    study = stored_study(config)
    assert outcome.failed == 1 and outcome.complete + outcome.failed == 4
    failed = study.get_trials(states=(TrialState.FAIL,))[0]
    assert failed.user_attrs[attrs.REASON].startswith("lost 1 time(s) to dead workers or nodes")


def test_an_exception_in_a_trial_fails_it_with_the_reason(tmp_path: Path, local_ray: None) -> None:
    """A dataset folder without the expected layout: every trial raises on its worker; the study completes."""
    broken = tmp_path / "not-speech-commands"
    broken.mkdir()
    config = trained_config(tmp_path, broken, budget={"trials": 2})
    outcome = run_study(config)
    assert outcome.failed == 2 and outcome.complete == 0
    for trial in stored_study(config).trials:
        assert trial.user_attrs[attrs.REASON].startswith("DatasetError: ")
        assert "not-speech-commands" in trial.user_attrs[attrs.REASON]


def test_a_missing_data_folder_fails_before_anything_starts(tmp_path: Path) -> None:
    from nas.study.errors import StudyConfigError

    config = trained_config(tmp_path, tmp_path / "no-such-folder")
    with pytest.raises(StudyConfigError, match=r"data: got .*no-such-folder.*does not exist.*generate_data"):
        run_study(config)
    assert not (config.output_dir / "study.db").exists()  # checked before the study was even opened


def test_removing_a_node_mid_search_does_not_stop_the_search(tmp_path: Path, kws_root: Path) -> None:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker_node = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        config = trained_config(tmp_path, kws_root, retries=2, training={"budget": "1.5s", "batch_size": 4})
        driver = SearchDriver(config)
        removed = threading.Event()

        def remove_when_busy() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(driver._running) < 2:
                time.sleep(0.05)
            time.sleep(0.5)
            cluster.remove_node(worker_node)
            removed.set()

        remover = threading.Thread(target=remove_when_busy, daemon=True)
        remover.start()
        outcome = driver.run()
        remover.join()
        assert removed.is_set()
        assert outcome.complete + outcome.pruned + outcome.failed == 4
        assert outcome.complete >= 3  # the trial on the removed node is retried on the head node
    finally:
        ray.shutdown()
        cluster.shutdown()
