"""Dominance, fronts and non-dominated ranks against brute force on integer sets with ties and duplicates."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from nas.pareto import ParetoError, dominates, non_dominated_mask, non_dominated_sort
from tests.nas.pareto.oracles import brute_dominators, brute_front

DIRECTIONS = ("minimize", "maximize")


def _random_case(seed: int, k: int) -> tuple[np.ndarray, list[str]]:
    """A small integer point set with many ties and duplicates, and random mixed directions."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 45))
    points = rng.integers(0, 5, size=(n, k)).astype(float)
    if n > 3:  # force a few exact duplicates
        points[rng.integers(0, n, size=3)] = points[rng.integers(0, n, size=3)]
    directions = [str(d) for d in rng.choice(DIRECTIONS, size=k)]
    return points, directions


def test_dominates_small_cases() -> None:
    assert dominates([1, 2], [1, 3], ["minimize", "minimize"])
    assert not dominates([1, 3], [1, 2], ["minimize", "minimize"])
    assert not dominates([1, 2], [1, 2], ["minimize", "minimize"])  # equal points do not dominate
    assert not dominates([0, 3], [1, 2], ["minimize", "minimize"])  # incomparable
    assert dominates([1, 3], [1, 2], ["minimize", "maximize"])
    assert dominates([5], [4], ["maximize"])
    assert not dominates([np.nan, 0], [1, 1], ["minimize", "minimize"])
    assert not dominates([0, 0], [np.nan, 1], ["minimize", "minimize"])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(12))
def test_front_and_ranks_match_brute_force(k: int, seed: int) -> None:
    points, directions = _random_case(seed * 10 + k, k)
    mask = non_dominated_mask(points, directions)
    ranks = non_dominated_sort(points, directions)
    np.testing.assert_array_equal(mask, brute_front(points, directions))
    np.testing.assert_array_equal(ranks == 0, mask)
    dominators = brute_dominators(points, directions)
    for i, by in enumerate(dominators):
        assert ranks[i] >= 0
        assert all(ranks[j] < ranks[i] for j in by), (i, ranks[i], [ranks[j] for j in by])
        if ranks[i] > 0:
            assert any(ranks[j] == ranks[i] - 1 for j in by)
        else:
            assert not by
    # duplicates share their rank
    for i in range(len(points)):
        for j in range(len(points)):
            if np.array_equal(points[i], points[j]):
                assert ranks[i] == ranks[j]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_nan_rows_are_off_every_front(k: int) -> None:
    rng = np.random.default_rng(k)
    points = rng.integers(0, 4, size=(30, k)).astype(float)
    points[[3, 7, 11], rng.integers(0, k, size=3)] = np.nan
    points[20] = -100.0  # best everywhere: dominates everything valid ...
    points[20, 0] = np.nan  # ... but a NaN row takes no part
    directions = ["minimize"] * k
    ranks = non_dominated_sort(points, directions)
    mask = non_dominated_mask(points, directions)
    nan_rows = np.isnan(points).any(axis=1)
    assert (ranks[nan_rows] == -1).all() and not mask[nan_rows].any()
    valid = ~nan_rows
    np.testing.assert_array_equal(ranks[valid], non_dominated_sort(points[valid], directions))
    np.testing.assert_array_equal(mask[valid], brute_front(points[valid], directions))


def test_duplicates_are_all_on_the_front() -> None:
    points = np.array([[1, 2], [1, 2], [2, 1], [2, 2], [2, 2]], dtype=float)
    np.testing.assert_array_equal(non_dominated_mask(points, ["minimize"] * 2), [True, True, True, False, False])
    np.testing.assert_array_equal(non_dominated_sort(points, ["minimize"] * 2), [0, 0, 0, 1, 1])


def test_empty_and_all_nan_inputs() -> None:
    assert non_dominated_mask(np.empty((0, 3)), ["minimize"] * 3).shape == (0,)
    assert non_dominated_sort(np.empty((0, 2)), ["minimize"] * 2).shape == (0,)
    np.testing.assert_array_equal(non_dominated_sort(np.full((2, 2), np.nan), ["minimize"] * 2), [-1, -1])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_larger_sets_across_block_boundaries(k: int) -> None:
    """600 points (several 256-row blocks): fronts by an all-pairs matrix, ranks by peeling that matrix."""
    rng = np.random.default_rng(100 + k)
    points = rng.integers(0, 12, size=(600, k)).astype(float)
    weakly = (points[:, None, :] <= points[None, :, :]).all(axis=2)  # weakly[i, j]: i <= j everywhere
    strictly = (points[:, None, :] < points[None, :, :]).any(axis=2)
    dominates_matrix = weakly & strictly
    expected_ranks = np.full(len(points), -1)
    remaining = np.ones(len(points), dtype=bool)
    rank = 0
    while remaining.any():
        layer = remaining & ~dominates_matrix[remaining].any(axis=0)
        expected_ranks[layer] = rank
        remaining &= ~layer
        rank += 1
    directions = ["minimize"] * k
    np.testing.assert_array_equal(non_dominated_sort(points, directions), expected_ranks)
    np.testing.assert_array_equal(non_dominated_mask(points, directions), expected_ranks == 0)
    # Mixed directions: negating a column and maximising it is the same problem.
    flipped = points.copy()
    flipped[:, 0] *= -1
    np.testing.assert_array_equal(non_dominated_sort(flipped, ["maximize", *directions[1:]]), expected_ranks)


def test_row_order_does_not_matter() -> None:
    rng = np.random.default_rng(7)
    points = rng.integers(0, 6, size=(200, 3)).astype(float)
    permutation = rng.permutation(len(points))
    ranks = non_dominated_sort(points, ["minimize", "maximize", "minimize"])
    np.testing.assert_array_equal(
        non_dominated_sort(points[permutation], ["minimize", "maximize", "minimize"]), ranks[permutation]
    )


def test_two_objective_sweep_agrees_with_general_algorithm() -> None:
    """A constant third objective changes no dominance relation but routes through the k-D code."""
    rng = np.random.default_rng(11)
    points = rng.integers(0, 40, size=(3000, 2)).astype(float)
    padded = np.column_stack([points, np.zeros(len(points))])
    np.testing.assert_array_equal(
        non_dominated_sort(points, ["minimize", "maximize"]),
        non_dominated_sort(padded, ["minimize", "maximize", "minimize"]),
    )


def test_infinities_are_ordinary_values() -> None:
    points = np.array([[np.inf, 0.0], [0.0, np.inf], [1.0, 1.0], [np.inf, np.inf]])
    np.testing.assert_array_equal(non_dominated_sort(points, ["minimize"] * 2), [0, 0, 0, 1])


def test_front_agrees_with_optuna_best_trials() -> None:
    """Optuna's public ``study.best_trials`` is the Pareto front of the completed trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(3)
    directions = ["minimize", "maximize", "minimize"]
    values = rng.random((150, 3)).round(2)
    study = optuna.create_study(directions=directions)
    study.add_trials([optuna.trial.create_trial(values=row.tolist()) for row in values])
    expected = sorted(trial.number for trial in study.best_trials)
    assert np.flatnonzero(non_dominated_mask(values, study.directions)).tolist() == expected


@pytest.mark.parametrize(
    ("points", "directions", "message"),
    [
        ([[1, 2]], ["minimize"], "1 entries but the points have 2"),
        ([[1, 2]], ["minimize", "best"], "directions\\[1\\] is 'best'"),
        ([[1, 2]], "minimize", "single value"),
        ([1, 2], ["minimize", "minimize"], "2-D array"),
        ([["a", "b"]], ["minimize", "minimize"], "numeric"),
        ([[1, 2]], [], "empty"),
    ],
)
def test_bad_inputs_raise_pareto_error(points: object, directions: object, message: str) -> None:
    with pytest.raises(ParetoError, match=message):
        non_dominated_sort(points, directions)  # type: ignore[arg-type]
    assert issubclass(ParetoError, ValueError)
