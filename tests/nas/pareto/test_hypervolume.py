"""Exact hypervolume, contributions and reference points against counted grid cells and closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from nas.pareto import ParetoError, hypervolume, hypervolume_contributions, reference_point
from tests.nas.pareto.oracles import grid_hypervolume

DIRECTIONS = ("minimize", "maximize")
GRID = {1: 30, 2: 16, 3: 9, 4: 6, 5: 5}  # grid side per dimension, small enough to count every cell


def _grid_case(seed: int, k: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Integer points (some beyond the reference, some duplicated) and an integer reference."""
    rng = np.random.default_rng(seed)
    side = GRID[k]
    directions = [str(d) for d in rng.choice(DIRECTIONS, size=k)]
    n = int(rng.integers(0, 16))
    # In "distance from the reference" units: 0 is at the reference, side is the far end; -1 is beyond it.
    depth = rng.integers(1, side + 1, size=(n, k))
    beyond = rng.random((n, k)) < 0.06  # a few points at or beyond the reference in some objective
    depth[beyond] = rng.integers(-1, 1, size=int(beyond.sum()))
    if n > 2:
        depth[0] = depth[1]  # a duplicate
    reference = rng.integers(-20, 20, size=k)
    signs = np.array([1 if d == "minimize" else -1 for d in directions])
    points = reference - signs * depth  # minimise: smaller than the reference; maximise: larger
    return points.astype(float), reference.astype(float), directions


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(15))
def test_hypervolume_equals_counted_grid_cells(k: int, seed: int) -> None:
    points, reference, directions = _grid_case(seed * 7 + k, k)
    expected = grid_hypervolume(points, reference.astype(int), directions)
    assert hypervolume(points, reference, directions) == expected


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(6))
def test_contributions_are_leave_one_out_differences(k: int, seed: int) -> None:
    points, reference, directions = _grid_case(1000 + seed * 7 + k, k)
    ref = reference.astype(int)
    total = grid_hypervolume(points, ref, directions)
    expected = [total - grid_hypervolume(np.delete(points, i, axis=0), ref, directions) for i in range(len(points))]
    np.testing.assert_array_equal(hypervolume_contributions(points, reference, directions), expected)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_contributions_with_many_dominated_points(k: int) -> None:
    """Dominated points bound a front point's exclusive region once it is removed (dense integer sets)."""
    rng = np.random.default_rng(50 + k)
    points = rng.integers(0, 8, size=(40, k)).astype(float)
    reference = np.full(k, 8.0)
    directions = ["minimize"] * k
    total = hypervolume(points, reference, directions)
    expected = [total - hypervolume(np.delete(points, i, axis=0), reference, directions) for i in range(len(points))]
    np.testing.assert_array_equal(hypervolume_contributions(points, reference, directions), expected)
    assert total == grid_hypervolume(points, reference.astype(int), directions)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_one_point_is_its_box(k: int) -> None:
    rng = np.random.default_rng(k)
    point = rng.random(k)
    reference = point + rng.random(k) + 0.1
    assert hypervolume(point[None, :], reference, ["minimize"] * k) == pytest.approx(np.prod(reference - point))
    flipped = ["maximize"] * k
    assert hypervolume(-point[None, :], -reference, flipped) == pytest.approx(np.prod(reference - point))


def test_two_points_in_2d_are_a_union_of_rectangles() -> None:
    a, b, r = np.array([0.5, 2.0]), np.array([1.5, 0.25]), np.array([3.0, 4.0])
    union = np.prod(r - a) + np.prod(r - b) - np.prod(r - np.maximum(a, b))
    assert hypervolume(np.stack([a, b]), r, ["minimize", "minimize"]) == pytest.approx(union)
    # mixed directions by hand: maximise the second objective, reference below the points
    points = np.array([[1.0, 5.0], [2.0, 7.0]])
    # boxes [1, 4) x [0, 5) and [2, 4) x [0, 7): 15 + 14 - 10
    assert hypervolume(points, [4.0, 0.0], ["minimize", "maximize"]) == 19.0


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_invariant_to_order_dominated_points_and_duplicates(k: int) -> None:
    rng = np.random.default_rng(20 + k)
    points = rng.random((25, k))
    reference = np.full(k, 1.2)
    directions = ["minimize"] * k
    base = hypervolume(points, reference, directions)
    assert hypervolume(points[rng.permutation(25)], reference, directions) == pytest.approx(base, rel=1e-12)
    dominated = points[:10] + rng.random((10, k)) * 0.05
    extended = np.concatenate([points, dominated, points[:5]])
    assert hypervolume(extended, reference, directions) == pytest.approx(base, rel=1e-12)


def test_points_not_strictly_inside_the_reference_are_ignored() -> None:
    reference = [10.0, 10.0, 10.0]
    inside = np.array([[1.0, 2.0, 3.0]])
    outside = np.array([[10.0, 0.0, 0.0], [0.0, 11.0, 0.0], [np.nan, 0.0, 0.0], [np.inf, 0.0, 0.0]])
    directions = ["minimize"] * 3
    assert hypervolume(outside, reference, directions) == 0.0
    assert hypervolume(np.concatenate([inside, outside]), reference, directions) == 9 * 8 * 7
    contributions = hypervolume_contributions(np.concatenate([inside, outside]), reference, directions)
    np.testing.assert_array_equal(contributions, [504.0, 0, 0, 0, 0])
    assert hypervolume(np.empty((0, 3)), reference, directions) == 0.0


def test_float_sets_agree_across_dimensions() -> None:
    """A duplicated constant last objective multiplies the volume by its extent (independent of the k-D code)."""
    rng = np.random.default_rng(5)
    for k in (2, 3, 4):
        points = rng.random((60, k))
        reference = np.full(k, 1.0)
        base = hypervolume(points, reference, ["minimize"] * k)
        padded = np.column_stack([points, np.full(len(points), 0.25)])
        assert hypervolume(padded, np.append(reference, 1.0), ["minimize"] * (k + 1)) == pytest.approx(
            0.75 * base, rel=1e-12
        )


@pytest.mark.parametrize(
    ("reference", "points", "message"),
    [
        ([1.0], [[0.0, 0.0]], "one value per objective"),
        ([1.0, np.nan], [[0.0, 0.0]], "finite"),
        ([1.0, np.inf], [[0.0, 0.0]], "finite"),
        ([1.0, 1.0], [[-np.inf, 0.0]], "infinite"),
    ],
)
def test_bad_reference_or_points_raise(reference: list[float], points: list[list[float]], message: str) -> None:
    with pytest.raises(ParetoError, match=message):
        hypervolume(points, reference, ["minimize", "minimize"])


def test_reference_point_default() -> None:
    points = np.array([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0], [5.0, 5.0], [np.nan, 0.0]])
    directions = ["minimize", "maximize"]
    # Front (minimise x, maximise y): (1, 10), (2, 20), (3, 30); (5, 5) is dominated.
    # nadir x = 3, range 2 -> 3.2; worst y = 10, range 20 -> 10 - 2 = 8.
    np.testing.assert_allclose(reference_point(points, directions), [3.2, 8.0])
    # over all rows: x in [1, 5] -> 5.4; y in [5, 30] -> 5 - 2.5 = 2.5
    np.testing.assert_allclose(reference_point(points, directions, front_only=False), [5.4, 2.5])
    # a single point: offset margin * max(|value|, 1)
    np.testing.assert_allclose(reference_point([[4.0, -0.5]], directions, margin=0.5), [6.0, -1.0])
    reference = reference_point(points, directions)
    assert (hypervolume_contributions(points[:3], reference, directions) > 0).all()


def test_reference_point_errors() -> None:
    with pytest.raises(ParetoError, match="no row without NaN"):
        reference_point([[np.nan, 1.0]], ["minimize", "minimize"])
    with pytest.raises(ParetoError, match="margin"):
        reference_point([[0.0, 1.0]], ["minimize", "minimize"], margin=-1)
    with pytest.raises(ParetoError, match="infinite"):
        reference_point([[0.0, np.inf], [1.0, 0.0]], ["minimize", "minimize"])
