"""The share of the ideal box a front dominates, against unit cells counted one by one on a hand-made front."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nas.pareto import hypervolume, ideal_box_volume, normalised_hypervolume

# accuracy (maximised, in hundredths), FLOPs and bytes (minimised, in arbitrary integer units)
DIRECTIONS = ["maximize", "minimize", "minimize"]
FRONT = np.array([[60.0, 2, 5], [70, 4, 3], [80, 7, 6], [55, 1, 8], [65, 6, 7]])  # the last one is dominated
REFERENCE = np.array([50.0, 9, 10])


def _counted_share(points: np.ndarray, reference: np.ndarray) -> float:
    """Every unit cell between the ideal point and the reference, tested for dominance by some point."""
    ideal = np.array([points[:, 0].max(), points[:, 1].min(), points[:, 2].min()])
    inside = total = 0
    for a, f, b in itertools.product(
        range(int(reference[0]), int(ideal[0])),
        range(int(ideal[1]), int(reference[1])),
        range(int(ideal[2]), int(reference[2])),
    ):
        total += 1  # the cell [a, a+1) x [f, f+1) x [b, b+1)
        inside += any(p[0] >= a + 1 and p[1] <= f and p[2] <= b for p in points)
    return inside / total


def test_the_share_equals_the_counted_cells() -> None:
    expected = _counted_share(FRONT, REFERENCE)
    assert 0.1 < expected < 0.9  # a real trade-off, not a degenerate box
    assert normalised_hypervolume(FRONT, REFERENCE, DIRECTIONS) == pytest.approx(expected, rel=1e-12)


def test_the_box_is_the_product_of_each_objective_s_best_distance_to_the_reference() -> None:
    assert ideal_box_volume(FRONT, REFERENCE, DIRECTIONS) == (80 - 50) * (9 - 1) * (10 - 3)


def test_a_comparison_measures_every_study_in_one_box() -> None:
    """``ideal_of``: a subset's share is taken in the box of all rows, so shares of several studies compare."""
    part = FRONT[:2]
    shared = normalised_hypervolume(part, REFERENCE, DIRECTIONS, ideal_of=FRONT)
    assert shared == pytest.approx(
        hypervolume(part, REFERENCE, DIRECTIONS) / ideal_box_volume(FRONT, REFERENCE, DIRECTIONS)
    )
    assert shared < normalised_hypervolume(part, REFERENCE, DIRECTIONS)  # its own box is smaller


def test_one_point_fills_its_own_box_and_an_empty_box_is_nan() -> None:
    assert normalised_hypervolume(FRONT[:1], REFERENCE, DIRECTIONS) == pytest.approx(1.0)
    beyond = np.array([[40.0, 2, 5]])  # accuracy worse than the reference: the box is empty
    assert np.isnan(ideal_box_volume(beyond, REFERENCE, DIRECTIONS))
    assert np.isnan(normalised_hypervolume(beyond, REFERENCE, DIRECTIONS))


def test_nan_entries_are_skipped_per_column_for_the_ideal_point() -> None:
    with_nan = np.vstack([FRONT, [[np.nan, 0.5, 1]]])  # a row without accuracy still says how cheap one can be
    assert ideal_box_volume(with_nan, REFERENCE, DIRECTIONS) == (80 - 50) * (9 - 0.5) * (10 - 1)
