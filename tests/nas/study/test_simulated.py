"""The simulated backend replays a results table through the real driver, sampler and scheduler: its clock
advances by the tabulated seconds (a promotion by its own rung's, a fresh run by every rung's up to its own),
the study's results are the table's, and an architecture the table lacks fails its trial with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from optuna.trial import TrialState

from nas.study import StudyConfig, attrs, run_study
from nas.study.backends import ResultsTable, SimulatedBackend
from nas.tasks import Budget
from tests.support.studies import ACCURACY_AND_FLOPS, TINY_SPACE, kws_study

BUDGETS = ("1steps", "3steps", "9steps")  # 9 steps scaled by 1/9, 1/3 and 1


def _write_table(path: Path, *, leave_out: int = 0) -> dict[str, list[float]]:
    """A table of every architecture of TINY_SPACE: accuracy rising with the rung, seconds per rung from the id.
    Returns ``arch id -> seconds per rung``; the first ``leave_out`` architectures are not written."""
    space = StudyConfig.from_dict(_config_data(path.parent)).space
    seconds: dict[str, list[float]] = {}
    lines = [{"format": 1, "budget": "9steps", "budgets": list(BUDGETS), "space": TINY_SPACE}]
    for index, arch in enumerate(sorted(space.enumerate(), key=lambda a: a.id)):
        per_rung = [1.0 + index % 3, 2.0 + index % 5, 6.0 + index % 7]
        seconds[arch.id] = per_rung
        if index < leave_out:
            continue
        rungs = [
            {"budget": budget, "metrics": {"accuracy": (index % 10) / 10 + rung / 100}, "seconds": per_rung[rung]}
            for rung, budget in enumerate(BUDGETS)
        ]
        lines.append({"arch_id": arch.id, "arch": arch.to_dict(), "rungs": rungs})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return seconds


def _config_data(folder: Path, **changes: object) -> dict[str, object]:
    base = kws_study(
        "simulated",
        folder,
        TINY_SPACE,
        ACCURACY_AND_FLOPS,
        data=folder,  # nothing is read: the table stands in for training
        budget={"trials": 12},
        training={"budget": "9steps"},
        sampler={"name": "nsga2", "seed": 0, "options": {"population_size": 4}},
        keep_weights=False,
    )
    return base | changes


def test_a_multi_fidelity_study_replays_the_table_on_the_simulated_clock(tmp_path: Path) -> None:
    seconds = _write_table(tmp_path / "table.jsonl")
    table = ResultsTable.load(tmp_path / "table.jsonl")
    config = StudyConfig.from_dict(_config_data(tmp_path, fidelity={"min_fraction": 1 / 9, "eta": 3}))
    backend = SimulatedBackend(table, workers=2)
    outcome = run_study(config, backend=backend, storage=optuna.storages.InMemoryStorage())
    by_number = {trial.number: trial for trial in outcome.study.trials}
    started: dict[tuple[int, int], float] = {}
    for event in backend.events:
        if not event.ended:
            started[(event.trial, event.rung)] = event.time
            continue
        arch_id = by_number[event.trial].user_attrs[attrs.ARCH_ID]
        # a promotion continues the rung below: it takes its own rung's seconds only
        assert event.time - started[(event.trial, event.rung)] == seconds[arch_id][event.rung]
    ends = sorted(event.time for event in backend.events if event.ended)
    assert backend.now == ends[-1]
    complete = [t for t in outcome.study.trials if t.state == TrialState.COMPLETE]
    assert complete and all(len(t.user_attrs[attrs.RUNGS]) == 3 for t in complete)
    for trial in complete:
        row = table.rungs[trial.user_attrs[attrs.ARCH_ID]]
        assert trial.values[0] == row[2].metrics["accuracy"]
        assert [r["train_seconds"] for r in trial.user_attrs[attrs.RUNGS]] == [rung.seconds for rung in row]


def test_without_checkpoints_a_promotion_pays_for_every_rung_again(tmp_path: Path) -> None:
    seconds = _write_table(tmp_path / "table.jsonl")
    config = StudyConfig.from_dict(_config_data(tmp_path, fidelity={"min_fraction": 1 / 9, "eta": 3}))
    backend = SimulatedBackend(ResultsTable.load(tmp_path / "table.jsonl"), workers=2, checkpoints=False)
    outcome = run_study(config, backend=backend, storage=optuna.storages.InMemoryStorage())
    arch_ids = {trial.number: trial.user_attrs[attrs.ARCH_ID] for trial in outcome.study.trials}
    started = {(e.trial, e.rung): e.time for e in backend.events if not e.ended}
    promoted = [e for e in backend.events if e.ended and e.rung > 0]
    assert promoted, "some trial was promoted"
    for event in promoted:
        expected = sum(seconds[arch_ids[event.trial]][: event.rung + 1])  # trained again from step 0
        assert event.time - started[(event.trial, event.rung)] == expected


def test_a_full_fidelity_run_takes_every_rung_s_seconds_and_one_worker_adds_them_up(tmp_path: Path) -> None:
    seconds = _write_table(tmp_path / "table.jsonl")
    config = StudyConfig.from_dict(_config_data(tmp_path))
    backend = SimulatedBackend(ResultsTable.load(tmp_path / "table.jsonl"), workers=1)
    outcome = run_study(config, backend=backend, storage=optuna.storages.InMemoryStorage())
    trained = [t for t in outcome.study.trials if attrs.DUPLICATE_OF not in t.user_attrs]
    assert backend.now == sum(sum(seconds[t.user_attrs[attrs.ARCH_ID]]) for t in trained)
    assert outcome.training_seconds == backend.now


def test_an_architecture_outside_the_table_fails_its_trial_with_the_reason(tmp_path: Path) -> None:
    _write_table(tmp_path / "table.jsonl", leave_out=1000)  # a header and no architecture
    config = StudyConfig.from_dict(_config_data(tmp_path, budget={"trials": 2}))
    backend = SimulatedBackend(ResultsTable.load(tmp_path / "table.jsonl"))
    outcome = run_study(config, backend=backend, storage=optuna.storages.InMemoryStorage())
    assert outcome.failed == 2
    for trial in outcome.study.trials:
        assert trial.user_attrs[attrs.REASON] == (
            f"SimulationError: architecture {trial.user_attrs[attrs.ARCH_ID]} is not in the results table"
        )


def test_a_budget_the_table_was_not_trained_at_is_named(tmp_path: Path) -> None:
    _write_table(tmp_path / "table.jsonl")
    config = StudyConfig.from_dict(_config_data(tmp_path, budget={"trials": 1}, training={"budget": "8steps"}))
    outcome = run_study(
        config,
        backend=SimulatedBackend(ResultsTable.load(tmp_path / "table.jsonl")),
        storage=optuna.storages.InMemoryStorage(),
    )
    reason = outcome.study.trials[0].user_attrs[attrs.REASON]
    assert reason == "SimulationError: budget 8steps is not a rung of the results table (1steps, 3steps, 9steps)"
    assert Budget.parse("9steps").scaled(1 / 9) == Budget.parse(BUDGETS[0])
