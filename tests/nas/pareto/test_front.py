"""Pareto fronts and hypervolume histories of DataFrames with missing values and extra columns."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from nas.pareto import (
    ParetoError,
    ParetoFront,
    crowding_distance,
    hypervolume,
    hypervolume_history,
    pareto_front,
)
from tests.nas.pareto.oracles import brute_front


def _trials(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A results table: objectives with gaps, a nullable column, and columns that are not objectives."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "number": np.arange(n),
            "name": [f"arch-{i}" for i in range(n)],
            "accuracy": rng.integers(50, 60, size=n).astype(float),
            "flops": rng.integers(1, 12, size=n).astype(float),
            "memory": pd.array(rng.integers(1, 6, size=n), dtype="Int64"),
            "params": [{"depth": int(d)} for d in rng.integers(1, 4, size=n)],
        },
        index=pd.Index([f"t{i}" for i in range(n)], name="trial"),
    )
    frame.loc[frame.index[[2, 9, 30]], "accuracy"] = np.nan
    frame.loc[frame.index[[5, 30]], "memory"] = pd.NA
    frame.loc[frame.index[7], "flops"] = None
    return frame


@pytest.mark.parametrize(
    "objectives",
    [
        {"accuracy": "maximize", "flops": "minimize"},
        {"flops": "minimize", "accuracy": "maximize"},
        {"accuracy": "maximize", "flops": "minimize", "memory": "minimize"},
        {"memory": "minimize", "flops": "maximize"},
    ],
)
def test_front_of_any_column_subset(objectives: dict[str, str]) -> None:
    frame = _trials()
    front = pareto_front(frame, objectives)
    columns, directions = list(objectives), list(objectives.values())
    values = frame[columns].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(values).any(axis=1)
    expected = frame.index[valid][brute_front(values[valid], directions)]
    assert sorted(front.index) == sorted(expected)
    assert (front["rank"] == 0).all()
    assert list(front.columns) == [*frame.columns, "rank", "crowding"]
    pd.testing.assert_frame_equal(front.drop(columns=["rank", "crowding"]), frame.loc[front.index])
    # sorted by the first objective, best first
    first = front[columns[0]].to_numpy(dtype=float)
    assert (np.diff(first) >= 0).all() if directions[0] == "minimize" else (np.diff(first) <= 0).all()
    np.testing.assert_array_equal(
        front["crowding"].to_numpy(), crowding_distance(front[columns].to_numpy(dtype=float), directions)
    )


def test_max_rank_keeps_the_first_fronts_in_rank_order() -> None:
    frame = _trials()
    objectives = {"accuracy": "maximize", "flops": "minimize"}
    fronts = pareto_front(frame, objectives, max_rank=2)
    assert fronts["rank"].is_monotonic_increasing
    assert set(fronts["rank"]) == {0, 1, 2}
    pd.testing.assert_frame_equal(fronts[fronts["rank"] == 0], pareto_front(frame, objectives))
    second = fronts[fronts["rank"] == 1]
    rest = frame.drop(index=pareto_front(frame, objectives).index)
    assert sorted(second.index) == sorted(pareto_front(rest, objectives).index)


def test_pareto_front_class() -> None:
    frame = _trials()
    objectives = {"accuracy": "maximize", "flops": "minimize"}
    front = ParetoFront.from_frame(frame, objectives)
    assert len(front) == len(pareto_front(frame, objectives))
    assert front.columns == ["accuracy", "flops"] and front.directions == ["maximize", "minimize"]
    reference = {"accuracy": 40.0, "flops": 20.0}
    assert front.hypervolume(reference) == hypervolume(
        frame[["accuracy", "flops"]].to_numpy(dtype=float), [40.0, 20.0], ["maximize", "minimize"]
    )
    assert front.hypervolume() > 0
    contributions = front.contributions(reference)
    assert list(contributions.index) == list(front.rows.index)
    points = front.points
    total = hypervolume(points, [40.0, 20.0], front.directions)
    leave_one_out = [
        total - hypervolume(np.delete(points, i, axis=0), [40.0, 20.0], front.directions) for i in range(len(points))
    ]
    np.testing.assert_array_equal(contributions.to_numpy(), leave_one_out)  # duplicated front rows give 0


def test_history_is_monotone_and_ends_at_the_total() -> None:
    frame = _trials(200, seed=4)
    objectives = {"accuracy": "maximize", "flops": "minimize", "memory": "minimize"}
    reference = {"accuracy": 49.0, "flops": 12.0, "memory": 6.0}
    history = hypervolume_history(frame, objectives, reference, "number")
    assert len(history) == len(frame) and history.index.name == "number"
    assert (np.diff(history.to_numpy()) >= 0).all()
    values = frame[list(objectives)].to_numpy(dtype=float, na_value=np.nan)
    directions = list(objectives.values())
    ref = list(reference.values())
    assert history.iloc[-1] == hypervolume(values, ref, directions)
    for i in (0, 1, 5, 17, 60, 133):  # every prefix, recomputed from scratch (integer data: exact)
        assert history.iloc[i] == hypervolume(values[: i + 1], ref, directions)


def test_history_follows_the_order_column() -> None:
    frame = _trials(80, seed=2)
    objectives = {"accuracy": "maximize", "flops": "minimize"}
    reference = [45.0, 15.0]
    shuffled = frame.sample(frac=1.0, random_state=0)
    by_number = hypervolume_history(shuffled, objectives, reference, "number")
    in_order = hypervolume_history(frame, objectives, reference)
    np.testing.assert_array_equal(by_number.to_numpy(), in_order.to_numpy())
    assert list(by_number.index) == list(range(80))
    assert list(in_order.index) == list(frame.index)


@pytest.mark.parametrize("directions", [["minimize", "maximize"], ["maximize", "minimize", "minimize"]])
def test_history_agrees_with_optuna_public_plot(directions: list[str]) -> None:
    """Optuna's public ``plot_hypervolume_history`` (y values of its figure) on random float trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(len(directions))
    values = rng.random((120, len(directions)))
    study = optuna.create_study(directions=directions)
    study.add_trials([optuna.trial.create_trial(values=row.tolist()) for row in values])
    reference = [1.1 if d == "minimize" else -0.1 for d in directions]
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        figure = optuna.visualization.plot_hypervolume_history(study, reference)
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(len(directions))])
    objectives = dict(zip(frame.columns, directions, strict=True))
    ours = hypervolume_history(frame, objectives, reference)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(figure.data[0].y), rtol=1e-12)


def test_history_of_a_few_thousand_rows_is_fast_enough() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame(rng.random((3000, 3)), columns=["a", "b", "c"])
    history = hypervolume_history(frame, {"a": "minimize", "b": "minimize", "c": "maximize"}, [1.0, 1.0, 0.0])
    assert history.iloc[-1] == pytest.approx(
        hypervolume(frame.to_numpy(), [1.0, 1.0, 0.0], ["minimize", "minimize", "maximize"]), rel=1e-12
    )


def test_rows_with_missing_objectives_are_ignored_everywhere() -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, 2.0, 0.0], "y": [2.0, 0.0, 1.0, np.nan], "z": ["a", "b", "c", "d"]})
    front = pareto_front(frame, {"x": "minimize", "y": "minimize"})
    assert list(front.index) == [0, 2]
    history = hypervolume_history(frame, {"x": "minimize", "y": "minimize"}, [3.0, 3.0])
    np.testing.assert_array_equal(history.to_numpy(), [2.0, 2.0, 3.0, 3.0])


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        ({}, "non-empty mapping"),
        ({"speed": "minimize"}, "not in the frame"),
        ({"name": "minimize"}, "must be numeric"),
        ({"flops": "smallest"}, "allowed: 'minimize' or 'maximize'"),
    ],
)
def test_bad_objectives_raise(objectives: dict[str, str], message: str) -> None:
    with pytest.raises(ParetoError, match=message):
        pareto_front(_trials(), objectives)


def test_bad_history_arguments_raise() -> None:
    frame = _trials()
    objectives = {"accuracy": "maximize", "flops": "minimize"}
    with pytest.raises(ParetoError, match="missing \\['flops'\\]"):
        hypervolume_history(frame, objectives, {"accuracy": 0.0})
    with pytest.raises(ParetoError, match="order_column 'time'"):
        hypervolume_history(frame, objectives, [0.0, 20.0], "time")
