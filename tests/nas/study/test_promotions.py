"""Promotions continue training from the lower rung's checkpoint, through the real driver, scheduler and worker
(in-process backend, real training on the tiny tone corpus): the trial that reaches the top rung ends with the
weights of one straight run to the full budget, checkpoints go to the study's artifact folder and are removed
when their trials end, and a lost checkpoint means training that rung again, with a warning on the trial."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from optuna.trial import TrialState

from nas.study import InProcessBackend, StudyConfig, TrialRequest, attrs, run_study
from nas.study.worker import run_trial
from nas.tasks import TaskResult, make_task
from tests.support.studies import trained_config

pytestmark = pytest.mark.filterwarnings("ignore:SpeechCommands")  # the tiny corpus has 3 of the space's 35 words

# rungs of 2, 4 and 8 steps; with eta = 2, four trials put two on rung 1 and one on the top rung
FIDELITY = {"min_fraction": 0.25, "eta": 2}


def _config(tmp_path: Path, kws_root: Path, **changes: object) -> StudyConfig:
    values = {
        "budget": {"trials": 4},
        "fidelity": FIDELITY,
        "training": {"budget": "8steps", "batch_size": 4},
        "sampler": {"name": "random", "seed": 1},
        "artifacts": str(tmp_path / "artifacts"),
        **changes,
    }
    return trained_config(tmp_path, kws_root, **values)


def test_a_trial_promoted_through_two_rungs_ends_like_one_straight_run(tmp_path: Path, kws_root: Path) -> None:
    requests: list[TrialRequest] = []
    leftovers: list[list[Path]] = []

    def recording(request: TrialRequest) -> TaskResult:
        requests.append(request)
        leftovers.append(sorted((tmp_path / "artifacts").rglob("*.pt")))
        return run_trial(request)

    config = _config(tmp_path, kws_root)
    outcome = run_study(config, backend=InProcessBackend(recording))
    top = [t for t in outcome.study.trials if t.state == TrialState.COMPLETE and len(t.user_attrs[attrs.RUNGS]) == 3]
    assert top, "with eta = 2, the best of rung 1's two trials reaches the top rung"
    trial = top[0]
    runs = [request for request in requests if request.trial == trial.number]
    assert [str(request.budget) for request in runs] == ["2steps", "4steps", "8steps"]
    assert runs[0].resume_from is None
    assert runs[1].resume_from == runs[0].checkpoint_to and runs[2].resume_from == runs[1].checkpoint_to
    assert all(Path(run.checkpoint_to).parent == tmp_path / "artifacts" / "checkpoints" for run in runs[:2])
    assert any(leftovers), "checkpoints were on disk between rungs"
    assert not list((tmp_path / "artifacts").rglob("*.pt")), "every trial ended: no checkpoint is left"
    assert not trial.user_attrs.get(attrs.WARNINGS)

    straight = make_task(config.task, config.data).run(
        runs[-1].arch, runs[-1].budget, runs[-1].training, schedule=runs[-1].schedule, weights_path=tmp_path / "s.pt"
    )
    promoted = torch.load(trial.user_attrs[attrs.WEIGHTS], weights_only=True)
    reference = torch.load(tmp_path / "s.pt", weights_only=True)
    assert all(torch.equal(promoted[name], reference[name]) for name in reference)
    assert trial.values[0] == straight.metrics["accuracy"]
    assert trial.user_attrs[attrs.TRAINING]["steps"] == 8
    seconds = [rung["train_seconds"] for rung in trial.user_attrs[attrs.RUNGS]]
    assert trial.user_attrs[attrs.TRAIN_SECONDS] == pytest.approx(sum(seconds))  # each rung's own training


def test_a_lost_checkpoint_means_training_the_rung_again_with_a_warning(tmp_path: Path, kws_root: Path) -> None:
    lost: list[str] = []

    def losing(request: TrialRequest) -> TaskResult:
        if request.resume_from is not None and not lost:
            Path(request.resume_from).unlink()  # a node's disk went away between the rungs
            lost.append(request.resume_from)
        return run_trial(request)

    outcome = run_study(_config(tmp_path, kws_root), backend=InProcessBackend(losing))
    assert lost, "some trial was promoted"
    warned = [t for t in outcome.study.trials if t.user_attrs.get(attrs.WARNINGS)]
    assert len(warned) == 1 and warned[0].state.is_finished() and warned[0].state != TrialState.FAIL
    [warning] = warned[0].user_attrs[attrs.WARNINGS]
    assert warning == {"rung": 1, "warning": f"checkpoint {lost[0]} is missing; trained again from step 0"}
    record = warned[0].user_attrs[attrs.RUNGS][1]
    assert record["budget"] == "4steps"
