"""The weight-sharing strategy's bookkeeping, with stand-in supernet functions and trials (no training).

What is under test is the driver: one supernet training, estimates in batches told as complete trials
with ``estimated_by``, constraints and duplicates settled before estimation, confirmations enqueued
from the estimated front and run as ordinary trials, and a resume that repeats none of it.
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.compare._variants import HETEROGENEOUS, comparison_variants
from nas.export._selection import best_trial, pareto_trials
from nas.report._data import collect
from nas.study import InProcessBackend, StudyConfig, StudyConfigError, attrs
from nas.study.stopping import StopOnInterrupt
from nas.study.trials import front_frame
from nas.study.weight_sharing import (
    CONFIRMED,
    ESTIMATED,
    SUPERNET_ATTR,
    Agreement,
    Estimation,
    SupernetError,
    SupernetFunctions,
    SupernetTrained,
    SupernetTraining,
    WeightSharingDriver,
    agreement,
    complete_of_kind,
    rank_agreement,
    supernet_checkpoint,
)
from tests.nas.study.fake_trials import sleepy_trial_function
from tests.support.studies import TINY_SPACE as SPACE


def _score(arch: Any) -> float:
    return zlib.crc32(json.dumps(arch.to_dict(), sort_keys=True).encode()) % 1000 / 1000


class Recorder:
    """Stand-in supernet functions that remember what they were asked."""

    def __init__(self, *, fail_training: bool = False) -> None:
        self.trainings: list[SupernetTraining] = []
        self.estimations: list[Estimation] = []
        self.fail_training = fail_training

    def train(self, request: SupernetTraining) -> SupernetTrained:
        self.trainings.append(request)
        if self.fail_training:
            raise RuntimeError("loss is nan at step 3")
        Path(request.checkpoint).write_bytes(b"supernet")
        return SupernetTrained(request.checkpoint, seconds=1.5, steps=7)

    def estimate(self, request: Estimation) -> list[dict[str, float]]:
        self.estimations.append(request)
        assert Path(request.checkpoint).read_bytes() == b"supernet"
        return [{"accuracy": _score(arch)} for arch in request.archs]

    def functions(self) -> SupernetFunctions:
        return SupernetFunctions(train=self.train, estimate=self.estimate)


def ws_config(tmp_path: Path, data: Path, **changes: Any) -> StudyConfig:
    values: dict[str, Any] = {
        "name": "ws",
        "task": "kws",
        "data": str(data),
        "space": SPACE,
        "objectives": {"accuracy": "maximize", "train_flops": "minimize"},
        "strategy": "weight-sharing",
        "supernet": {"budget": "5steps", "evaluations": 12, "per_task": 5},
        "confirm": {"top": 2, "random": 1},
        "training": {"budget": "2steps", "batch_size": 4},
        "sampler": {"name": "nsga2", "seed": 0, "options": {"population_size": 4}},
        "output": str(tmp_path / "runs"),
        **changes,
    }
    return StudyConfig.from_dict({key: value for key, value in values.items() if value is not ...})


def _driver(config: StudyConfig, recorder: Recorder) -> WeightSharingDriver:
    backend = InProcessBackend(sleepy_trial_function(0.0))
    return WeightSharingDriver(config, backend=backend, functions=recorder.functions())


def test_one_supernet_many_estimates_then_ordinary_confirmations(tmp_path: Path, kws_root: Path) -> None:
    config = ws_config(tmp_path, kws_root)
    recorder = Recorder()
    outcome = _driver(config, recorder).run()
    study = outcome.study
    assert len(recorder.trainings) == 1
    assert Path(recorder.trainings[0].checkpoint) == config.artifacts_dir / "supernet" / "supernet.pt"
    assert study.user_attrs[SUPERNET_ATTR]["steps"] == 7
    assert [len(e.archs) for e in recorder.estimations] == [len(e.trials) for e in recorder.estimations]
    assert all(len(e.archs) <= 5 for e in recorder.estimations)

    estimated = [t for t in study.trials if t.user_attrs.get(attrs.ESTIMATED_BY) == "supernet"]
    assert len(estimated) == 12
    for trial in complete_of_kind(study, ESTIMATED):
        assert trial.values[0] == trial.user_attrs[attrs.METRICS]["accuracy"]
        assert trial.values[1] == trial.user_attrs[attrs.COST]["train_flops"]
    # a duplicate architecture reuses the estimate of the first instead of being estimated again
    estimated_archs = [arch.id for e in recorder.estimations for arch in e.archs]
    assert len(estimated_archs) == len(set(estimated_archs))
    reused = [t for t in estimated if attrs.DUPLICATE_OF in t.user_attrs]
    assert reused  # the small space repeats architectures within 12 asks
    for trial in reused:  # ``duplicate_of`` names the stored trial whose estimate it reuses
        source = study.trials[trial.user_attrs[attrs.DUPLICATE_OF]]
        assert source.user_attrs[attrs.ARCH_ID] == trial.user_attrs[attrs.ARCH_ID] and source.values == trial.values

    confirmations = complete_of_kind(study, CONFIRMED)
    assert len(confirmations) == 3
    picks = sorted(t.user_attrs[attrs.CONFIRM_PICK] for t in confirmations)
    assert picks == ["random", "top", "top"]
    for trial in confirmations:
        source = study.trials[trial.user_attrs[attrs.CONFIRMS]]
        assert attrs.ESTIMATED_BY not in trial.user_attrs
        assert trial.user_attrs[attrs.ARCH_ID] == source.user_attrs[attrs.ARCH_ID]
        assert trial.user_attrs[attrs.ESTIMATE] == dict(zip(config.objective_names, source.values, strict=True))
        assert attrs.DUPLICATE_OF not in trial.user_attrs  # trained, not the estimate reused
        assert trial.user_attrs[attrs.TRAINING]["steps"] == 1  # the stand-in trial function ran
    (quality,) = agreement(study, config)
    assert quality.objective == "accuracy" and quality.pairs == 3
    assert quality.kendall == pytest.approx(1.0)  # the stand-ins score alike: the estimate ranks perfectly


def test_status_pareto_report_and_export_tell_estimates_from_confirmations(
    tmp_path: Path, kws_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ws_config(tmp_path, kws_root)
    outcome = _driver(config, Recorder()).run()
    study = outcome.study
    folder = str(config.output_dir)
    assert main(["status", folder]) == 0
    status = capsys.readouterr().out
    assert "confirmed Pareto front (stand-alone training):" in status
    assert "supernet: trained 7 steps" in status and "estimated Pareto front" in status
    assert "estimate vs stand-alone, accuracy: Kendall tau +1.000, Spearman rho +1.000 over 3" in status
    assert "; parameter count alone: Kendall tau " in status  # the free proxy the estimate is judged against
    assert main(["pareto", folder]) == 0
    printed = capsys.readouterr().out
    assert "Estimated Pareto front of ws" in printed and "Confirmed Pareto front of ws" in printed
    front = pd.read_csv(config.output_dir / "pareto.csv")
    assert set(front["front"]) == {"estimated", "confirmed"}
    confirmed = front[front["front"] == "confirmed"]
    assert confirmed["confirms"].notna().all() and confirmed["estimate.accuracy"].notna().all()
    assert front_frame(study, config)["number"].tolist() == confirmed["number"].tolist()

    data = collect(study, config)
    assert (
        "3 confirmed (" in data.weight_sharing[0]
        and "the hypervolume is the confirmed front's" in data.weight_sharing[0]
    )
    assert "Kendall tau +1.000" in data.weight_sharing[1]
    assert data.weight_sharing[1].startswith("estimate vs stand-alone accuracy: ")
    (quality,) = agreement(study, config)
    assert data.weight_sharing[1] == f"estimate vs stand-alone {quality.line()}"  # report and status say the same
    assert set(data.trials["kind"]) == {"estimated", "confirmed"}
    confirmations = set(data.evaluated.loc[data.evaluated["kind"] == "confirmed", "number"])
    assert not data.history.empty and set(data.history["number"]) <= confirmations

    best = best_trial(study, config, "accuracy")
    assert attrs.CONFIRMS in best.user_attrs
    assert all(attrs.CONFIRMS in trial.user_attrs for trial in pareto_trials(study, config))


def test_a_resumed_study_repeats_neither_the_supernet_nor_estimates_nor_confirmations(
    tmp_path: Path, kws_root: Path
) -> None:
    config = ws_config(tmp_path, kws_root)
    _driver(config, Recorder()).run()
    again = Recorder()
    outcome = _driver(config, again).run()
    assert again.trainings == [] and again.estimations == []
    study = optuna.load_study(study_name=config.name, storage=config.storage_url)
    assert len(study.trials) == outcome.complete + outcome.pruned + outcome.failed == 15


def test_constraints_prune_before_estimation(tmp_path: Path, kws_root: Path) -> None:
    config = ws_config(tmp_path, kws_root, constraints=["params <= 1"])
    recorder = Recorder()
    outcome = _driver(config, recorder).run()
    assert recorder.estimations == []
    pruned = outcome.study.get_trials(states=(TrialState.PRUNED,))
    assert len(pruned) == 12 and all(t.user_attrs[attrs.REASON].startswith("constraint ") for t in pruned)
    assert complete_of_kind(outcome.study, CONFIRMED) == []


def test_a_supernet_that_cannot_train_stops_the_search_with_its_reason(tmp_path: Path, kws_root: Path) -> None:
    config = ws_config(tmp_path, kws_root)
    with pytest.raises(SupernetError, match="supernet: got 'RuntimeError: loss is nan at step 3'"):
        _driver(config, Recorder(fail_training=True)).run()


def test_a_given_supernet_is_estimated_on_without_training(tmp_path: Path, kws_root: Path) -> None:
    first = ws_config(tmp_path, kws_root)
    _driver(first, Recorder()).run()
    second = ws_config(
        tmp_path, kws_root, name="ws-shared", supernet={"evaluations": 4, "checkpoint": str(supernet_checkpoint(first))}
    )
    recorder = Recorder()
    _driver(second, recorder).run()
    assert recorder.trainings == [] and recorder.estimations
    assert {e.checkpoint for e in recorder.estimations} == {str(supernet_checkpoint(first))}
    missing = ws_config(tmp_path, kws_root, name="ws-missing", supernet={"checkpoint": str(tmp_path / "none.pt")})
    with pytest.raises(SupernetError, match=r"supernet\.checkpoint: got .*none\.pt', which is not a file"):
        _driver(missing, Recorder()).run()


def test_compare_scores_every_space_of_a_seed_on_the_heterogeneous_supernet(tmp_path: Path, kws_root: Path) -> None:
    base = ws_config(tmp_path, kws_root)
    variants = comparison_variants(base, blocks=("dws", "s5"), seeds=(0, 1), out=tmp_path / "compare")
    hetero = {v.seed: supernet_checkpoint(v.config) for v in variants if v.space == HETEROGENEOUS}
    assert [v.space for v in variants][:2] == [HETEROGENEOUS, HETEROGENEOUS]  # they train before anyone estimates
    for variant in variants:
        expected = None if variant.space == HETEROGENEOUS else hetero[variant.seed]
        assert variant.config.supernet.checkpoint == expected


def _stand_in_functions() -> SupernetFunctions:
    """Stand-ins built here so that Ray pickles them by value (workers need not import the tests)."""

    def train(request: Any) -> Any:
        from pathlib import Path

        from nas.study.weight_sharing import SupernetTrained

        Path(request.checkpoint).write_bytes(b"supernet")
        return SupernetTrained(request.checkpoint, seconds=0.1, steps=3)

    def estimate(request: Any) -> list[dict[str, float]]:
        import json
        import zlib

        return [
            {"accuracy": zlib.crc32(json.dumps(a.to_dict(), sort_keys=True).encode()) % 1000 / 1000}
            for a in request.archs
        ]

    return SupernetFunctions(train=train, estimate=estimate)


def test_on_ray_the_supernet_and_estimates_are_ray_tasks(tmp_path: Path, kws_root: Path) -> None:
    import ray

    from nas.study import RayBackend
    from nas.study.weight_sharing import RayRunner

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="ws-tests")
    try:
        config = ws_config(tmp_path, kws_root)
        backend = RayBackend(config, trial_function=sleepy_trial_function(0.0))
        driver = WeightSharingDriver(config, backend=backend, functions=_stand_in_functions())
        assert isinstance(driver.runner, RayRunner)
        outcome = driver.run()
        assert len(complete_of_kind(outcome.study, CONFIRMED)) == 3
        assert outcome.study.user_attrs[SUPERNET_ATTR]["steps"] == 3
    finally:
        ray.shutdown()


def test_a_space_no_supernet_can_share_is_refused_in_the_config(
    tmp_path: Path, kws_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import centaurus.supernet

    def refuse(space: Any) -> None:
        raise centaurus.supernet.UnshareableSpaceError("input.frontend: got 2 choices; allowed: one frontend")

    monkeypatch.setattr(centaurus.supernet, "check_shareable", refuse)
    with pytest.raises(StudyConfigError, match=r"^space\.input\.frontend: got 2 choices; allowed: one frontend"):
        ws_config(tmp_path, kws_root)
    ws_config(tmp_path, kws_root, strategy="one-per-trial", supernet=..., confirm=...)  # only weight sharing asks


def test_a_supernet_training_that_died_is_continued_from_its_checkpoint(tmp_path: Path, kws_root: Path) -> None:
    config = ws_config(tmp_path, kws_root)
    dying = Recorder()

    def write_then_die(request: SupernetTraining) -> SupernetTrained:
        Path(request.checkpoint).write_bytes(b"supernet")  # as the trainer leaves one every few steps
        raise RuntimeError("worker killed")

    functions = SupernetFunctions(train=write_then_die, estimate=dying.estimate)
    with pytest.raises(SupernetError, match="worker killed"):
        WeightSharingDriver(config, backend=InProcessBackend(sleepy_trial_function(0.0)), functions=functions).run()
    again = Recorder()
    _driver(config, again).run()
    (request,) = again.trainings  # trained once more, into the same checkpoint (the trainer continues it)
    assert request.checkpoint == str(supernet_checkpoint(config)) and Path(request.checkpoint).is_file()


def test_compare_counts_only_confirmations(tmp_path: Path, kws_root: Path) -> None:
    from nas.compare._analysis import collect as collect_comparison

    base = ws_config(tmp_path, kws_root)
    (variant,) = comparison_variants(base, blocks=(), seeds=(0,), out=tmp_path / "compare")
    _driver(variant.config, Recorder()).run()
    trials = collect_comparison([variant])
    assert len(trials) == 3 and set(trials["kind"]) == {"confirmed"}


def test_a_checkpoint_of_another_space_is_refused_before_any_estimate(tmp_path: Path, kws_root: Path) -> None:
    first = ws_config(tmp_path, kws_root)
    _driver(first, Recorder()).run()
    checked: list[tuple[str, str]] = []

    def refuse(path: str, space: Any) -> None:
        checked.append((path, space.name))
        raise RuntimeError("stages[0].channels: got choices [16] that the supernet's space does not offer")

    recorder = Recorder()
    functions = SupernetFunctions(train=recorder.train, estimate=recorder.estimate, check=refuse)
    given = str(supernet_checkpoint(first))
    shared = ws_config(tmp_path, kws_root, name="ws-shared", supernet={"evaluations": 4, "checkpoint": given})
    backend = InProcessBackend(sleepy_trial_function(0.0))
    with pytest.raises(SupernetError, match=r"^supernet\.checkpoint: got .*supernet\.pt' for space .*channels: got"):
        WeightSharingDriver(shared, backend=backend, functions=functions).run()
    # a resumed study checks the checkpoint it recorded, against the space it is resumed with
    with pytest.raises(SupernetError, match=r"^space: got .*supernet\.pt' for space"):
        WeightSharingDriver(first, backend=backend, functions=functions).run()
    assert checked == [(given, shared.space.name), (given, first.space.name)]
    assert recorder.estimations == [] and recorder.trainings == []


class StopAfter:
    """A stop flag (as Ctrl-C sets it) raised once ``estimates`` estimation tasks have been submitted."""

    def __init__(self, recorder: Recorder, estimates: int) -> None:
        self.recorder, self.estimates = recorder, estimates

    @property
    def requested(self) -> bool:
        return len(self.recorder.estimations) >= self.estimates

    def deferred(self) -> Any:
        return StopOnInterrupt().deferred()


def test_ctrl_c_during_estimation_keeps_what_was_told_and_resume_asks_only_the_rest(
    tmp_path: Path, kws_root: Path
) -> None:
    config = ws_config(tmp_path, kws_root, confirm={"top": 1, "random": 0})
    first = Recorder()
    backend = InProcessBackend(sleepy_trial_function(0.0))
    stop = StopAfter(first, estimates=2)  # stops with the second batch in flight
    outcome = WeightSharingDriver(config, backend=backend, functions=first.functions(), stop=stop).run()  # type: ignore[arg-type]
    assert outcome.stopped_by_user and complete_of_kind(outcome.study, CONFIRMED) == []
    kept = complete_of_kind(outcome.study, ESTIMATED)
    assert 0 < len(kept) < 12 and all(t.state.is_finished() for t in outcome.study.trials)

    second = Recorder()
    outcome = _driver(config, second).run()
    study = outcome.study
    assert second.trainings == []  # the supernet is not trained again
    estimated = [t for t in study.trials if t.user_attrs.get(attrs.ESTIMATED_BY) == "supernet"]
    assert len(estimated) == 12  # the stored ones and the rest: the resume asks only what is missing
    stored_before = {trial.user_attrs[attrs.ARCH_ID] for trial in kept}
    assert not stored_before & {arch.id for e in second.estimations for arch in e.archs}  # reused, not estimated again
    (confirmation,) = complete_of_kind(study, CONFIRMED)
    assert study.trials[confirmation.user_attrs[attrs.CONFIRMS]].user_attrs[attrs.ESTIMATED_BY] == "supernet"


def test_rank_agreement_judges_the_estimate_against_the_parameter_count() -> None:
    # four confirmed architectures: the estimate ranks them exactly, the parameter count exactly backwards
    estimates, measured, parameters = [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [400, 300, 200, 100]
    found = rank_agreement("accuracy", estimates, measured, parameters, "maximize")
    assert (found.pairs, found.kendall, found.spearman) == (4, pytest.approx(1.0), pytest.approx(1.0))
    assert (found.parameters_kendall, found.parameters_spearman) == (pytest.approx(-1.0), pytest.approx(-1.0))
    assert found.line() == (
        "accuracy: Kendall tau +1.000, Spearman rho +1.000 over 4 confirmed architecture(s);"
        " parameter count alone: Kendall tau -1.000, Spearman rho -1.000"
    )
    # a minimised objective (an error rate): more parameters, lower error reads as the proxy ranking well
    error = rank_agreement("wer", [0.4, 0.3, 0.2, 0.1], [0.9, 0.8, 0.7, 0.6], [100, 200, 300, 400], "minimize")
    assert error.kendall == pytest.approx(1.0) and error.parameters_kendall == pytest.approx(1.0)
    # a missing estimate drops the architecture; a missing parameter count drops it from the proxy only
    gaps = rank_agreement(
        "accuracy",
        [0.1, math.nan, 0.3, 0.4],
        [0.5, 0.6, 0.7, 0.8],
        [1, 2, None, 4],  # type: ignore[list-item]
        "maximize",
    )
    assert gaps.pairs == 3 and gaps.parameters_kendall == pytest.approx(1.0)
    assert "parameter count" not in Agreement("accuracy", 2, 1.0, 1.0).line()  # nothing to compare: not shown
