"""NSGA-II crowding distance on hand-computed fronts."""

from __future__ import annotations

import numpy as np

from nas.pareto import crowding_distance, non_dominated_sort

INF = np.inf


def test_hand_computed_two_fronts() -> None:
    points = np.array(
        [
            [1, 5], [2, 3], [4, 2], [5, 1],  # front 0
            [3, 6], [5, 5], [6, 3],  # front 1
        ],
        dtype=float,
    )  # fmt: skip
    # Front 0, ranges 4 and 4: (2, 3) gets (4 - 1)/4 + (5 - 2)/4 = 1.5; (4, 2) gets (5 - 2)/4 + (3 - 1)/4 = 1.25.
    # Front 1, ranges 3 and 3: (5, 5) gets (6 - 3)/3 + (6 - 3)/3 = 2.
    expected = [INF, 1.5, 1.25, INF, INF, 2.0, INF]
    np.testing.assert_array_equal(non_dominated_sort(points, ["minimize"] * 2), [0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(crowding_distance(points, ["minimize", "minimize"]), expected)
    # Maximising the negated values is the same problem; the distances do not change.
    np.testing.assert_allclose(crowding_distance(-points, ["maximize", "maximize"]), expected)


def test_three_objectives_by_hand() -> None:
    # On the plane x + y + z = 6, so mutually non-dominated; ties are ordered lexicographically,
    # i.e. a (0,3,3) < e (1,2,3) < d (2,2,2) < b (3,0,3) < c (3,3,0). All ranges are 3.
    a, b, c, d, e = [0, 3, 3], [3, 0, 3], [3, 3, 0], [2, 2, 2], [1, 2, 3]
    points = np.array([a, b, c, d, e], dtype=float)
    # objective 0 order a e d b c: ends a, c; e += 2/3, d += 2/3, b += 1/3
    # objective 1 order b e d a c: ends b, c; e += 2/3, d += 1/3, a += 1/3
    # objective 2 order c d a e b: ends c, b; d += 3/3, a += 1/3, e += 0
    np.testing.assert_allclose(crowding_distance(points, ["minimize"] * 3), [INF, INF, INF, 2.0, 4 / 3])
    # e = (4, 1, 1) is an extreme only as the maximum of objective 0. Lexicographic order a b c d e;
    # ranges 4, 5, 5. objective 0 order a b c d e: ends a, e; b += 1/4, c += 1/4, d += 3/4.
    # objective 1 order b e d a c: ends b, c; e += 2/5, d += 2/5, a += 3/5. objective 2 order c e d a b: same gaps.
    points = np.array([[0, 3, 3], [1, 0, 5], [1, 5, 0], [2, 2, 2], [4, 1, 1]], dtype=float)
    np.testing.assert_allclose(crowding_distance(points, ["minimize"] * 3), [INF, INF, INF, 0.75 + 0.8, INF])
    points = np.array([[0, 4, 2], [1, 2, 2], [2, 1, 2], [4, 0, 2]], dtype=float)
    # A constant third objective contributes nothing: (1, 2) gets 2/4 + 3/4, (2, 1) gets 3/4 + 2/4.
    np.testing.assert_allclose(crowding_distance(points, ["minimize"] * 3), [INF, 1.25, 1.25, INF])


def test_small_fronts_are_infinite() -> None:
    np.testing.assert_array_equal(crowding_distance([[1.0, 2.0]], ["minimize"] * 2), [INF])
    np.testing.assert_array_equal(crowding_distance([[1.0, 2.0], [2.0, 1.0]], ["minimize"] * 2), [INF, INF])
    # two distinct points, one duplicated: still a front of two distinct points
    np.testing.assert_array_equal(crowding_distance([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0]], ["minimize"] * 2), [INF] * 3)


def test_duplicates_share_a_value_and_nan_rows_get_nan() -> None:
    points = np.array([[1, 5], [2, 3], [2, 3], [4, 2], [5, 1], [np.nan, 0]], dtype=float)
    distance = crowding_distance(points, ["minimize", "minimize"])
    np.testing.assert_allclose(distance[:5], [INF, 1.5, 1.5, 1.25, INF])
    assert np.isnan(distance[5])


def test_given_ranks_define_the_fronts() -> None:
    points = np.array([[1, 5], [2, 3], [4, 2], [5, 1]], dtype=float)
    # Treat them as two fronts of two points each: all infinite.
    np.testing.assert_array_equal(crowding_distance(points, ["minimize"] * 2, ranks=np.array([0, 1, 0, 1])), [INF] * 4)


def test_row_order_does_not_matter() -> None:
    rng = np.random.default_rng(1)
    points = rng.integers(0, 6, size=(80, 3)).astype(float)
    permutation = rng.permutation(80)
    distance = crowding_distance(points, ["minimize", "maximize", "minimize"])
    np.testing.assert_array_equal(
        crowding_distance(points[permutation], ["minimize", "maximize", "minimize"]), distance[permutation]
    )


def test_infinite_ranges() -> None:
    # Ranges are infinite: finite gaps count 0, gaps reaching an infinite neighbour count as infinite.
    points = np.array([[0, INF], [1, 3], [2, 2], [3, 1], [INF, 0]])
    np.testing.assert_array_equal(crowding_distance(points, ["minimize"] * 2), [INF, INF, 0.0, INF, INF])
