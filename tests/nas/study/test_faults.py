"""Fault injection against the real engine (Optuna, Ray, SQLite or PostgreSQL) with sleeping trials.

Each test injects one kind of fault many times and checks the promise of the platform: the search
finishes its budget and no completed trial is lost or repeated. Trials sleep instead of training
(see ``fake_trials``) so that the faults, not the training, take the time.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import optuna
import psutil
import pytest
import ray
import yaml
from optuna.trial import TrialState

from nas.study import RayBackend, StudyConfig, attrs, run_study
from nas.study.backends._ray_backend import describe_ray_error
from nas.study.driver import SearchDriver
from nas.study.limits import SECONDS_ATTR
from nas.study.storage import make_storage
from tests.nas.study.fake_trials import sleepy_trial_function
from tests.support.figures import Figure
from tests.support.postgres import Postgres
from tests.support.studies import kws_space, stored_study, trained_study

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


def _config_data(tmp_path: Path, data: Path, **changes: Any) -> dict[str, Any]:
    base = trained_study(tmp_path, data, name="faults", budget={"trials": 30}, training={"budget": "1steps"})
    base |= {"retries": 2, "keep_weights": False}
    return base | changes


def _study_file(tmp_path: Path, data: Path, **changes: Any) -> Path:
    """The config of ``_config_data`` with ``changes``, written where drivers (separate processes) can read it."""
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(_config_data(tmp_path, data, **changes)))
    return path


def _trials(config: StudyConfig) -> list[optuna.trial.FrozenTrial]:
    # make_storage, not the URL: a driver may be creating the schema while this looks
    return stored_study(config).get_trials()


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


def _trainings(trials: list[optuna.trial.FrozenTrial]) -> dict[tuple[str, int], set[str]]:
    """``(arch_id, rung) -> ids of the finished training runs`` over every trial of the study.

    A re-run that keeps its interrupted original's finished rungs keeps their run ids, so a rung
    result carried over counts once, and one trained again counts twice.
    """
    runs: dict[tuple[str, int], set[str]] = {}
    for trial in trials:
        for record in trial.user_attrs.get(attrs.RUNGS, []):
            key = (trial.user_attrs[attrs.ARCH_ID], record["rung"])
            runs.setdefault(key, set()).add(record.get("run", f"trial {trial.number}"))
    return runs


def _trained_twice(trials: list[optuna.trial.FrozenTrial]) -> int:
    """How many architectures finished training (at some rung) more than once."""
    return len({arch for (arch, _), runs in _trainings(trials).items() if len(runs) > 1})


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


def test_random_worker_kills_during_30_trials(tmp_path: Path, kws_root: Path, record_figure) -> None:
    config = StudyConfig.from_dict(_config_data(tmp_path, kws_root))
    ray.init(
        address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="centaurus-nas-fault-tests"
    )
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_trial_workers, args=(stop, killed, random.Random(0), 8), daemon=True)
    try:
        killer.start()
        outcome = run_study(config, backend=RayBackend(config, trial_function=sleepy_trial_function(0.8)))
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
            # a trial of the same architecture as one that failed so shares its fate (and its reason)
            reason = re.sub(r"^same architecture as trial \d+, which failed: ", "", trial.user_attrs[attrs.REASON])
            assert reason.startswith("lost 3 time(s) to dead workers"), trial.user_attrs[attrs.REASON]
    _check_nothing_lost_or_repeated(trials, _complete(trials))
    retried = sum(1 for t in trials if t.user_attrs.get(attrs.ATTEMPTS) and t.state == TrialState.COMPLETE)
    record_figure(
        Figure(
            "Ray workers SIGKILLed at random moments",
            "1 x 30",
            f"{len(killed)} worker kills",
            f"budget met; {retried} {'trial' if retried == 1 else 'trials'} retried and completed,"
            f" {outcome.failed} failed after 3 losses, reasons kept",
            0,
        )
    )


# -------------------------------------------------------------------------------- memory
def _recording_trial_function(folder: Path, seconds: float) -> Any:
    """``sleepy_trial_function(seconds)`` that also writes when each run started and ended to ``folder``."""
    sleepy = sleepy_trial_function(seconds)

    def recording_trial(request: Any) -> Any:
        import json
        import time
        import uuid

        started = time.time()
        result = sleepy(request)
        (folder / f"{uuid.uuid4().hex}.json").write_text(json.dumps([started, time.time()]))
        return result

    return recording_trial


def test_trials_whose_memory_does_not_fit_together_never_run_together(tmp_path: Path, kws_root: Path) -> None:
    """Two CPUs but memory for one trial at a time: the trials run one after the other, none pruned."""
    from nas.study import memory

    config = StudyConfig.from_dict(_config_data(tmp_path, kws_root, budget={"trials": 6}))
    runs = tmp_path / "intervals"
    runs.mkdir()
    node = int(1.6 * memory.WORKER_BASE_BYTES)  # each trial reserves its (small) peak + one worker base
    ray.init(address="local", num_cpus=2, _memory=node, include_dashboard=False, log_to_driver=False)
    try:
        outcome = run_study(config, backend=RayBackend(config, trial_function=_recording_trial_function(runs, 0.6)))
    finally:
        ray.shutdown()
    assert outcome.complete == 6 and outcome.pruned == outcome.failed == 0
    intervals = sorted(json.loads(path.read_text()) for path in runs.glob("*.json"))
    assert len(intervals) >= 2
    together = [(a, b) for a, b in itertools.pairwise(intervals) if b[0] < a[1]]
    assert not together, f"{len(together)} pairs of trials ran at once on a node with memory for one"


def test_an_out_of_memory_kill_is_named_and_retried_alone_once(tmp_path: Path, kws_root: Path, monkeypatch) -> None:
    from nas.study import jobs, memory

    config = StudyConfig.from_dict(_config_data(tmp_path, kws_root, budget={"trials": 1}))
    driver = SearchDriver(config)
    monkeypatch.setattr(memory, "largest_node_memory_bytes", lambda: 8 * memory.GIB)
    submitted: list[Any] = []
    monkeypatch.setattr(driver, "_submit", submitted.append)
    trial = driver.study.ask()
    peak = 3.5 * memory.GIB
    job = jobs.Job(trial, None, {"train_peak_bytes": peak}, rung=0, reserved=int(4.1 * memory.GIB))
    killed = ray.exceptions.OutOfMemoryError("Task was killed due to the node running low on memory.")
    lost = describe_ray_error(job.request(config), killed)  # what the Ray backend reports for the kill

    driver._lost(job, lost.lost, out_of_memory=lost.out_of_memory)  # shared the node: retried with the node to itself
    assert [retry.reserved for retry in submitted] == [8 * memory.GIB] and submitted[0].attempt == 1
    reason = driver.study.trials[0].user_attrs[attrs.ATTEMPTS][0]["error"]
    assert reason.startswith("out of memory (predicted 3.5 GiB peak, reserved 4.1 GiB, node 8.0 GiB)")

    driver._lost(submitted[0], lost.lost, out_of_memory=lost.out_of_memory)  # alone and killed again: not retried
    assert len(submitted) == 1
    failed = driver.study.trials[0]
    assert failed.state == TrialState.FAIL
    assert failed.user_attrs[attrs.REASON].startswith("out of memory (predicted 3.5 GiB peak, reserved 8.0 GiB")
    assert "not retried" in failed.user_attrs[attrs.REASON]


# -------------------------------------------------------------------------- driver killed
def _driver(
    config_path: Path, log: Path, sleep: float, env: dict[str, str] | None = None, start_when: Path | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.nas.study.fake_trials", str(config_path), "--sleep", str(sleep)]
    if start_when is not None:
        command += ["--start-when", str(start_when)]
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


def test_driver_sigkilled_five_times_then_resumed(tmp_path: Path, kws_root: Path, ray_cluster, record_figure) -> None:
    # 40 trials of 0.4 s on 2 CPUs, killed within 1.5 s of each run's first submission: five runs
    # finish at most about 30 of them, so the budget cannot run out before the fifth kill
    path = _study_file(tmp_path, kws_root, budget={"trials": 40}, ray={"address": ray_cluster.address})
    config = StudyConfig.load(path)
    rng, log, seen = random.Random(1), tmp_path / "driver.log", {}
    kills = 0
    while kills < 5:
        started = log.read_text().count("starts rung") if log.exists() else 0
        driver = _driver(path, log, sleep=0.4)
        _wait_for_submission(log, started, driver)
        time.sleep(rng.uniform(0.0, 1.5))  # then kill at a random moment of the search
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
    assert len(_counted(trials)) == 40
    interrupted = [t for t in trials if t.user_attrs.get(attrs.INTERRUPTED)]
    assert interrupted, "some kill hit a trial in flight"
    assert re.search(r"resume: \d+ interrupted trial", log.read_text())
    twice = _trained_twice(trials)
    assert twice == 0, f"{twice} architecture(s) trained twice: {_trainings(trials)}"
    trained = len({arch for arch, _ in _trainings(trials)})
    record_figure(
        Figure(
            "driver SIGKILLed at a random moment, then resumed",
            "1 x 40",
            "5 driver kills",
            f"budget met; {len(interrupted)} interrupted trials failed and re-run once each;"
            f" {trained} architectures trained, architectures trained twice: {twice}",
            0,
        )
    )


def test_killed_multi_fidelity_driver_keeps_finished_rungs(tmp_path: Path, kws_root: Path, ray_cluster) -> None:
    """Trials paused after rung 0 when the driver dies are resumed from their results, not trained again."""
    fidelity = {"min_fraction": 1 / 3, "eta": 3}
    ray = {"address": ray_cluster.address}
    path = _study_file(tmp_path, kws_root, budget={"trials": 12}, fidelity=fidelity, ray=ray)
    config, log = StudyConfig.load(path), tmp_path / "driver.log"
    driver = _driver(path, log, sleep=0.3)
    _wait_for_submission(log, 6, driver)
    assert driver.poll() is None, log.read_text()
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    before = _trials(config)
    paused = [t for t in before if t.state == TrialState.RUNNING and t.user_attrs.get(attrs.RUNGS)]
    assert paused, "some trial had finished rung 0 when the driver died"
    resumed = _driver(path, log, sleep=0.3)
    assert resumed.wait(timeout=120) == 0, log.read_text()
    trials = _trials(config)
    _check_nothing_lost_or_repeated(trials, _complete(before))
    assert _trained_twice(trials) == 0, _trainings(trials)
    assert "resumes after rung 0" in log.read_text()


# 4 x 3 x 3 choices per stage, two stages: over a thousand architectures, so ten random draws rarely repeat one
WIDE_STAGE = {"block": ["dws", "s5", "full", "group"], "channels": [8, 16, 32], "num_states": [4, 8, 16], "groups": [2]}
WIDE_SPACE = kws_space("tiny", WIDE_STAGE | {"stride": 4}, WIDE_STAGE | {"stride": 4})


def test_a_resumed_driver_asks_new_architectures(tmp_path: Path, kws_root: Path, ray_cluster) -> None:
    """The resumed driver's sampler must not replay the first run's draws (reused as duplicates, or trained
    again while the first run's interrupted trials re-run)."""
    ray = {"address": ray_cluster.address}
    path = _study_file(tmp_path, kws_root, space=WIDE_SPACE, budget={"trials": 10}, ray=ray)
    config, log = StudyConfig.load(path), tmp_path / "driver.log"
    driver = _driver(path, log, sleep=0.5)
    _wait_for_submission(log, 0, driver)
    submitted = time.monotonic()
    _wait_for_completions(log, 3, driver)
    os.kill(driver.pid, signal.SIGKILL)
    ran = time.monotonic() - submitted
    driver.wait()
    before = _complete(_trials(config))
    used = optuna.load_study(study_name=config.name, storage=config.storage_url).user_attrs.get(SECONDS_ATTR, 0.0)
    assert used >= ran - 2.5, f"the killed run searched {ran:.1f} s; the study counts {used:.1f} s of it"
    resumed = _driver(path, log, sleep=0.5)
    assert resumed.wait(timeout=120) == 0, log.read_text()
    trials = _trials(config)
    _check_nothing_lost_or_repeated(trials, before)
    assert _trained_twice(trials) == 0, _trainings(trials)
    reused = [t.number for t in trials if attrs.DUPLICATE_OF in t.user_attrs]
    assert not reused, f"trials {reused} asked an architecture the first run had evaluated"


def test_two_recoveries_at_once_fail_and_re_enqueue_each_trial_once(tmp_path: Path, monkeypatch) -> None:
    """Two drivers resuming together race for the same dead driver's trials: each is recovered exactly once."""
    from nas.study import liveness as driver_module

    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="race", storage=make_storage(url), directions=["minimize"])
    dead = {"id": "dead", "host": __import__("socket").gethostname(), "pid": 2**22 + 12345}
    for index in range(4):
        trial = study.ask()
        trial.suggest_int("x", 0, 100)
        trial.set_user_attr(attrs.DRIVER, dead)
        trial.set_user_attr(attrs.ARCH_ID, f"arch-{index}")
    both_listed = threading.Barrier(2, timeout=30)
    original = driver_module.driver_is_dead
    waited = threading.local()

    def driver_is_dead(trial, **kwargs):  # both recoveries have listed the trials before either changes one
        if not getattr(waited, "done", False):
            waited.done = True
            both_listed.wait()
        return original(trial, **kwargs)

    monkeypatch.setattr(driver_module, "driver_is_dead", driver_is_dead)
    errors: list[BaseException] = []
    counts: list[int] = []

    def recover() -> None:
        try:
            own = optuna.load_study(study_name="race", storage=make_storage(url))
            counts.append(driver_module.recover_interrupted(own, alive={"id": "me"}))
        except BaseException as error:  # the test reports whatever escaped
            errors.append(error)

    threads = [threading.Thread(target=recover) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    trials = optuna.load_study(study_name="race", storage=url).get_trials()
    reruns = [t.user_attrs[attrs.RESUMED_FROM] for t in trials if t.state == TrialState.WAITING]
    assert sorted(reruns) == [0, 1, 2, 3] and sum(counts) == 4
    for rerun in (t for t in trials if t.state == TrialState.WAITING):  # in whichever order the two recoveries won
        assert rerun.user_attrs[attrs.ARCH_ID] == f"arch-{rerun.user_attrs[attrs.RESUMED_FROM]}"


# ---------------------------------------------------------------- PostgreSQL: load and outage
# "trial N: same architecture as trial M, which is running; waiting for it" is not a tell: that one follows
TOLD = re.compile(r"trial (\d+)(?: (?:complete|pruned|failed):|: same architecture as trial \d+; its results reused)")


def _told(log: Path) -> list[int]:
    """The trial numbers this driver told (completed, pruned, failed, or reused a duplicate's results)."""
    return [int(number) for number in TOLD.findall(log.read_text())]


def test_four_drivers_share_one_postgres_study(
    tmp_path: Path, kws_root: Path, postgres_url: str, ray_cluster, record_figure
) -> None:
    budget, drivers = 40, 4
    ray = {"address": ray_cluster.address}
    path = _study_file(tmp_path, kws_root, budget={"trials": budget}, storage=postgres_url, ray=ray)
    logs = [tmp_path / f"driver-{index}.log" for index in range(drivers)]
    # the drivers start their searches together, once all four have imported everything
    barrier = tmp_path / "start"
    processes = [_driver(path, log, sleep=0.5, start_when=barrier) for log in logs]
    deadline = time.monotonic() + 120
    while not all(log.exists() and "ready" in log.read_text() for log in logs):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), [
            log.read_text() for log in logs
        ]
        time.sleep(0.1)
    barrier.touch()
    for process, log in zip(processes, logs, strict=True):
        assert process.wait(timeout=240) == 0, log.read_text()
    trials = _trials(StudyConfig.load(path))
    told = [_told(log) for log in logs]
    everyone = [number for numbers in told for number in numbers]
    assert len(everyone) == len(set(everyone)), "no trial is told by two drivers"
    finished = {t.number for t in trials if t.state != TrialState.RUNNING}
    assert set(everyone) == finished == {t.number for t in trials}, "every trial asked was told, by its driver"
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert budget <= len(_counted(trials)) <= budget + drivers - 1  # each driver checks the stored count
    owners = {t.user_attrs[attrs.DRIVER]["id"] for t in trials}
    assert len(owners) == drivers and all(told), "every driver ran trials"
    _check_nothing_lost_or_repeated(trials, _complete(trials))
    twice = _trained_twice(trials)
    assert twice == 0, f"{twice} architecture(s) trained twice: {_trainings(trials)}"
    record_figure(
        Figure(
            "4 drivers (processes) on one PostgreSQL study",
            f"{drivers} x {len(trials)}",
            "concurrent asks and tells, schema created by whichever driver came first",
            f"{len(everyone)} tells, each trial told once by its own driver ({', '.join(str(len(n)) for n in told)});"
            f" architectures trained twice: {twice}",
            0,
        )
    )


def _wait_for_completions(log: Path, count: int, driver: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while log.read_text().count(" complete:") < count:
        assert driver.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


class _Outage(NamedTuple):
    """A search whose PostgreSQL server was just stopped under it."""

    path: Path
    config: StudyConfig
    log: Path
    driver: subprocess.Popen[bytes]
    before: dict[int, tuple[float, ...]]
    """The trials complete before the stop, with their values."""


def _stop_postgres_mid_search(
    tmp_path: Path,
    data: Path,
    postgres_url: str,
    server: Postgres,
    ray_cluster: Any,
    trials: int,
    env: dict[str, str] | None = None,
) -> _Outage:
    """Start a driver searching ``trials`` trials on PostgreSQL, stop the server once three trials have
    completed, and return with the driver still running."""
    ray = {"address": ray_cluster.address}
    path = _study_file(tmp_path, data, budget={"trials": trials}, storage=postgres_url, ray=ray)
    config, log = StudyConfig.load(path), tmp_path / "driver.log"
    driver = _driver(path, log, sleep=0.5, env=env)
    _wait_for_completions(log, 3, driver)
    before = _complete(_trials(config))
    server.stop()
    return _Outage(path, config, log, driver, before)


def test_postgres_restarted_during_a_search_is_waited_for(
    tmp_path: Path, kws_root: Path, postgres_url: str, restartable_postgres_server, ray_cluster, record_figure
) -> None:
    server = restartable_postgres_server
    _, config, log, driver, before = _stop_postgres_mid_search(
        tmp_path, kws_root, postgres_url, server, ray_cluster, 24
    )
    time.sleep(5)  # trials keep finishing on the workers; their tells wait
    restartable_postgres_server.start()
    assert driver.wait(timeout=180) == 0, log.read_text()
    trials = _trials(config)
    retries = log.read_text().count("storage unreachable")
    assert retries > 0
    assert len(_counted(trials)) == 24
    _check_nothing_lost_or_repeated(trials, before)
    record_figure(
        Figure(
            "PostgreSQL stopped for 5 s mid-search",
            "1 x 24",
            "1 server stop and restart",
            f"driver waited ({retries} retries with backoff) and finished the budget",
            0,
        )
    )


def test_postgres_down_longer_than_allowed_stops_clearly_then_resumes(
    tmp_path: Path, kws_root: Path, postgres_url: str, restartable_postgres_server, ray_cluster, record_figure
) -> None:
    server, short_wait = restartable_postgres_server, {"CENTAURUS_STORAGE_OUTAGE_SECONDS": "3"}
    path, config, log, driver, before = _stop_postgres_mid_search(
        tmp_path, kws_root, postgres_url, server, ray_cluster, 20, env=short_wait
    )
    try:
        assert driver.wait(timeout=120) == 2, log.read_text()
    finally:
        restartable_postgres_server.start()
    text = log.read_text()
    assert "centaurus-nas: error: storage:" in text and "unreachable for" in text and "resume" in text
    assert "Traceback" not in text
    resumed = _driver(path, log, sleep=0.5)
    assert resumed.wait(timeout=180) == 0, log.read_text()
    trials = _trials(config)
    assert len(_counted(trials)) == 20
    _check_nothing_lost_or_repeated(trials, before)
    record_figure(
        Figure(
            "PostgreSQL down longer than the driver waits (3 s)",
            "1 x 20",
            "1 outage, then `resume`",
            "driver stopped with exit 2 and a message saying how to resume; resume finished the budget",
            0,
        )
    )
