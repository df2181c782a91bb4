"""Trial backends: the in-process backend runs a real (multi-fidelity) search without Ray, and what Ray
reports about a run becomes the right kind of result (the trial's failure, or a loss the driver retries)."""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import pytest
import ray
from optuna.trial import TrialState

from nas.errors import DatasetError
from nas.study import InProcessBackend, TrialRequest, attrs, run_study
from nas.study.backends._ray_backend import describe_ray_error
from nas.tasks import Budget, TaskResult, TrainingConfig, TrainingRun
from tests.support.studies import trained_config


def _score(request: TrialRequest) -> float:
    return zlib.crc32(json.dumps(request.arch.to_dict(), sort_keys=True).encode()) % 1000 / 1000


def _result(request: TrialRequest, accuracy: float) -> TaskResult:
    training = TrainingRun("completed", None, steps=request.budget.steps or 1, epochs=0.1, seconds=0.5, curve=())
    return TaskResult(request.task, "completed", None, {"accuracy": accuracy}, training, 0.0, 0, 0, str(request.budget))


def test_the_in_process_backend_runs_a_multi_fidelity_search_without_ray(tmp_path: Path, kws_root: Path) -> None:
    calls: list[tuple[int, int]] = []

    def trial_function(request: TrialRequest) -> TaskResult:
        calls.append((request.trial, request.rung))
        return _result(request, _score(request))

    fidelity = {"min_fraction": 1 / 3, "eta": 3}
    config = trained_config(tmp_path, kws_root, budget={"trials": 9}, fidelity=fidelity, training={"budget": "9steps"})
    outcome = run_study(config, backend=InProcessBackend(trial_function))
    assert "ray" not in sys.modules or not ray.is_initialized()
    trials = outcome.study.trials
    assert len(trials) == 9 and {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    trained = [t.number for t in trials if attrs.DUPLICATE_OF not in t.user_attrs]
    assert sorted(number for number, rung in calls if rung == 0) == trained  # each architecture trained once
    promoted = sorted(number for number, rung in calls if rung == 1)
    assert promoted == sorted(t.number for t in complete if attrs.DUPLICATE_OF not in t.user_attrs)
    assert 1 <= len(promoted) <= len(trained) // 3  # floor(n / eta) of the rung's n results at most
    for trial in complete:
        rungs = trial.user_attrs[attrs.RUNGS]
        assert [rung["budget"] for rung in rungs] == ["3steps", "9steps"]
        assert trial.values[0] == rungs[-1]["metrics"]["accuracy"]
    for trial in trials:
        if trial.state == TrialState.PRUNED and attrs.DUPLICATE_OF not in trial.user_attrs:
            assert [rung["rung"] for rung in trial.user_attrs[attrs.RUNGS]] == [0]
            assert "stopped after rung 0" in trial.user_attrs[attrs.REASON]


def test_an_exception_in_an_in_process_trial_fails_it_with_the_headline(tmp_path: Path, kws_root: Path) -> None:
    def broken(request: TrialRequest) -> TaskResult:
        raise ValueError("the data is odd\n  drawing of the layout")

    config = trained_config(tmp_path, kws_root, budget={"trials": 2})
    outcome = run_study(config, backend=InProcessBackend(broken))
    assert outcome.failed == 2
    assert {t.user_attrs[attrs.REASON] for t in outcome.study.trials} == {"ValueError: the data is odd"}


@pytest.fixture
def request_() -> TrialRequest:
    arch = next(iter(trained_config(Path("unused"), Path("unused")).space.enumerate()))
    return TrialRequest(0, 0, 0, "kws", "data", arch, Budget(steps=1), Budget(steps=1), TrainingConfig())


def test_ray_errors_are_told_apart(request_: TrialRequest) -> None:
    raised = ray.exceptions.RayTaskError("run_trial", "Traceback ...", DatasetError("no such folder\n  layout"))
    assert describe_ray_error(request_, raised).error == "DatasetError: no such folder"
    killed = describe_ray_error(request_, ray.exceptions.OutOfMemoryError("Task was killed due to low memory."))
    assert killed.out_of_memory and killed.lost == "OutOfMemoryError: Task was killed due to low memory."
    crashed = describe_ray_error(request_, ray.exceptions.WorkerCrashedError())
    assert crashed.lost is not None and crashed.lost.startswith("WorkerCrashedError: ") and not crashed.out_of_memory
    assert crashed.error is None and crashed.task is None
