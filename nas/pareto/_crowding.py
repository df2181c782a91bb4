"""NSGA-II crowding distance: how isolated each point is within its own non-dominated front.

For one front F and each objective j, sort F by f_j; the two extreme points get an infinite distance
(they bound the front and must be kept), and every interior point i adds the normalised gap between
its two neighbours in that order:

    d_i = sum_j (f_j[next(i)] - f_j[prev(i)]) / (max_F f_j - min_F f_j).

Normalising by the front's own range makes objectives of different units comparable. Conventions:

* Each front is treated separately; ranks come from :func:`~nas.pareto._dominance.non_dominated_sort`
  unless given. A front with at most two distinct points is all infinite.
* Duplicated points are computed once, on the distinct points of the front, and every copy gets the
  value of its point (so the result does not depend on which copy comes first).
* Ties within an objective are ordered by the points' lexicographic order (objective 0 first), so the
  result does not depend on the row order either.
* An objective with zero range in a front (all its points equal there) contributes nothing, not even
  the infinite boundary values: it carries no spread information.
* If an objective's range is infinite, a neighbour gap that is infinite counts as infinite and a
  finite gap counts as 0.
* Rows with a NaN objective (rank -1) get NaN.

Directions do not matter for the distance itself (gaps are taken in absolute value) but they define
the fronts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from nas.pareto._directions import DirectionLike, to_minimization
from nas.pareto._dominance import _ranks_min, _unique_rows
from nas.pareto._errors import ParetoError


def _front_crowding(front: np.ndarray) -> np.ndarray:
    """Crowding distance of every row of one NaN-free front (minimisation frame), duplicates shared."""
    unique, inverse = _unique_rows(front)
    m, k = unique.shape
    if m <= 2:
        return np.full(front.shape[0], np.inf)
    distance = np.zeros(m)
    for objective in range(k):
        order = np.argsort(unique[:, objective], kind="stable")  # ties keep the lexicographic order
        values = unique[order, objective]
        if values[-1] == values[0]:  # zero range (also when every value is the same infinity)
            continue
        span = values[-1] - values[0]
        with np.errstate(invalid="ignore"):
            gaps = (values[2:] - values[:-2]) / span
        gaps[np.isnan(gaps)] = np.inf  # inf / inf: an infinite gap over an infinite range
        distance[order[1:-1]] += gaps
        distance[order[0]] = np.inf
        distance[order[-1]] = np.inf
    return distance[inverse]


def crowding_distance(
    points: ArrayLike, directions: Sequence[DirectionLike], ranks: ArrayLike | None = None
) -> np.ndarray:
    """NSGA-II crowding distance of every row of ``points`` (n x k), computed within its own front.

    Args:
        points: n x k objective values.
        directions: "minimize" or "maximize" per objective.
        ranks: optional precomputed :func:`~nas.pareto._dominance.non_dominated_sort` result (length n);
            rows sharing a rank form one front. Rows of rank -1 are skipped.

    Returns:
        float64 array of length n: inf for boundary points and for fronts of <= 2 distinct points,
        NaN for rows with a NaN objective or rank -1.
    """
    values = to_minimization(points, directions)
    if ranks is None:
        front_ranks = _ranks_min(values)
    else:
        front_ranks = np.asarray(ranks)
        if front_ranks.shape != (values.shape[0],) or not np.issubdtype(front_ranks.dtype, np.integer):
            raise ParetoError(
                f"ranks must be an integer array with one rank per point ({values.shape[0]}), "
                f"got dtype {front_ranks.dtype} and shape {front_ranks.shape}"
            )
    distance = np.full(values.shape[0], np.nan)
    valid = ~np.isnan(values).any(axis=1) & (front_ranks >= 0)
    for rank in np.unique(front_ranks[valid]):
        members = np.flatnonzero(valid & (front_ranks == rank))
        distance[members] = _front_crowding(values[members])
    return distance
