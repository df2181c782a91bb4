"""Pareto dominance, the non-dominated front and non-dominated sorting (NSGA-II ranks).

In the minimisation frame (see :mod:`nas.pareto._directions`) a point a *dominates* b when

    a_j <= b_j for every objective j   and   a_j < b_j for at least one j.

Consequences this module relies on and guarantees:

* Equal points do not dominate each other, so duplicates share their fate: all copies are on the front
  or none is, and all copies get the same rank.
* A row with a NaN objective cannot be compared (every comparison with NaN is false), so it is never
  on any front: :func:`non_dominated_mask` gives it ``False`` and :func:`non_dominated_sort` gives it
  rank ``-1``; it does not dominate any other row either. Infinities are ordinary values (+inf is the
  worst possible value of a minimised objective, -inf the best).
* If a dominates b then a precedes b in lexicographic order (a <= b in every coordinate and a != b).
  Sorting the distinct points lexicographically therefore lists every point after all its dominators,
  which turns the front into a one-pass sweep: a point is non-dominated iff no *earlier* point is
  weakly better in every objective.

Costs, with n points, m distinct ones and k objectives: the front is O(n log n) for k <= 2 (a prefix-
minimum sweep) and O(k m^2) worst case otherwise (vectorised in blocks, much less when the front is
small); ranks are O(n log n) for k = 2 (a patience-sorting sweep) and O(k m^2) otherwise (Deb's fast
non-dominated sort with domination counters, chunked so that memory stays bounded).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from nas.pareto._directions import DirectionLike, _as_float_array, direction_signs, to_minimization
from nas.pareto._errors import ParetoError

_BLOCK = 256
"""Rows processed together by the block sweeps: large enough to amortise Python overhead."""

_CHUNK_ELEMENTS = 1 << 22
"""Upper bound on the elements of one broadcast comparison (about 4 MB of booleans)."""


def _valid_rows(values: np.ndarray) -> np.ndarray:
    """Rows without a NaN objective: the only rows that take part in dominance."""
    return ~np.isnan(values).any(axis=1)


def _unique_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows in lexicographic order (column 0 first) and, per input row, its distinct row.

    Deduplicating first makes "weakly better everywhere" (u <= v) equivalent to "dominates or equals
    itself", which the sweeps below use. -0.0 and 0.0 compare equal and fall into one row.
    """
    n = values.shape[0]
    if n == 0:
        return values.copy(), np.empty(0, dtype=np.intp)
    order = np.lexsort(values.T[::-1])
    ordered = values[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    starts[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def _weakly_dominated(candidates: np.ndarray, by: np.ndarray) -> np.ndarray:
    """For each candidate row c, whether some row b of ``by`` has b <= c in every objective.

    Broadcast in chunks of ``by`` so that one comparison never exceeds ``_CHUNK_ELEMENTS`` elements.
    """
    result = np.zeros(candidates.shape[0], dtype=bool)
    if by.shape[0] == 0 or candidates.shape[0] == 0:
        return result
    step = max(1, _CHUNK_ELEMENTS // (candidates.shape[0] * candidates.shape[1]))
    for start in range(0, by.shape[0], step):
        block = by[start : start + step]
        result |= np.any(np.all(block[None, :, :] <= candidates[:, None, :], axis=2), axis=1)
    return result


def _front_mask_sorted(unique: np.ndarray) -> np.ndarray:
    """Non-dominated flags of distinct, lexicographically sorted, NaN-free rows.

    Every dominator of row i comes before it, and for distinct rows "earlier and weakly better
    everywhere" is exactly "dominates". For k = 2 an earlier row q has q_0 <= p_0 already, so p is
    dominated iff min(q_1 over earlier q) <= p_1: a prefix minimum, O(m). For k = 1 only the first row
    survives. Otherwise rows are swept in blocks, each compared with the front found so far and with
    the earlier rows of its own block (a point dominated by a dominated point is dominated by that
    point's own non-dominated dominator, so comparing with the front is enough).
    """
    m, k = unique.shape
    mask = np.zeros(m, dtype=bool)
    if m == 0:
        return mask
    mask[0] = True
    if k == 1:
        return mask
    if k == 2:
        second = unique[:, 1]
        mask[1:] = second[1:] < np.minimum.accumulate(second)[:-1]
        return mask
    front = unique[:0]
    for start in range(0, m, _BLOCK):
        block = unique[start : start + _BLOCK]
        dominated = _weakly_dominated(block, front)
        within = (block[None, :, :] <= block[:, None, :]).all(axis=2)  # within[i, j]: block[j] <= block[i]
        dominated |= np.tril(within, -1).any(axis=1)
        mask[start : start + block.shape[0]] = ~dominated
        front = np.concatenate([front, block[~dominated]])
    return mask


def _non_dominated_min(values: np.ndarray) -> np.ndarray:
    """The distinct non-dominated rows of NaN-free minimisation-frame ``values``, lexicographically sorted."""
    unique, _ = _unique_rows(values)
    return unique[_front_mask_sorted(unique)]


def _ranks_sorted_2d(unique: np.ndarray) -> np.ndarray:
    """Ranks of distinct, lexicographically sorted 2-D rows by a patience-sorting sweep, O(m log m).

    Processed in order, an earlier distinct row q dominates p iff q_1 <= p_1. Keep, per front r found
    so far, the smallest second coordinate ``last[r]`` of its members; ``last`` is non-decreasing in r
    (induction: p goes to the first front with last[r] > p_1, and replacing last[r] by p_1 keeps the
    order). Fronts with last[r] <= p_1 each hold a dominator of p and later fronts hold none, so
    rank(p) = 1 + (highest rank of a dominator) = bisect_right(last, p_1).
    """
    last: list[float] = []
    ranks = np.empty(unique.shape[0], dtype=np.int64)
    for index, value in enumerate(unique[:, 1].tolist()):
        rank = bisect_right(last, value)
        if rank == len(last):
            last.append(value)
        else:
            last[rank] = value
        ranks[index] = rank
    return ranks


def _ranks_sorted_kd(unique: np.ndarray) -> np.ndarray:
    """Ranks of distinct NaN-free rows by Deb's fast non-dominated sort (NSGA-II), O(k m^2).

    count[i] = number of rows dominating i. Front 0 is {count == 0}; removing front r subtracts, from
    every remaining row, the number of its dominators in front r, and the rows reaching zero form front
    r + 1. The dominance matrix is never stored: each front's rows are compared with the remaining
    rows in chunks, so memory stays O(chunk) while the total work stays O(k m^2).
    """
    m, k = unique.shape
    counts = np.empty(m, dtype=np.int64)
    step = max(1, _CHUNK_ELEMENTS // (m * k))
    for start in range(0, m, step):
        block = unique[start : start + step]
        # Rows are distinct: u <= row everywhere means u dominates row or is row itself (hence the -1).
        counts[start : start + step] = (unique[None, :, :] <= block[:, None, :]).all(axis=2).sum(axis=1) - 1
    ranks = np.full(m, -1, dtype=np.int64)
    remaining = np.ones(m, dtype=bool)
    current = np.flatnonzero(counts == 0)
    rank = 0
    while current.size:
        ranks[current] = rank
        remaining[current] = False
        rest = np.flatnonzero(remaining)
        if rest.size == 0:
            break
        rest_values = unique[rest]
        step = max(1, _CHUNK_ELEMENTS // (rest.size * k))
        for start in range(0, current.size, step):
            block = unique[current[start : start + step]]
            counts[rest] -= (block[:, None, :] <= rest_values[None, :, :]).all(axis=2).sum(axis=0)
        current = rest[counts[rest] == 0]
        rank += 1
    return ranks


def _ranks_min(values: np.ndarray) -> np.ndarray:
    """Non-dominated rank of every row of minimisation-frame ``values``; -1 for rows with a NaN."""
    ranks = np.full(values.shape[0], -1, dtype=np.int64)
    valid = _valid_rows(values)
    if not valid.any():
        return ranks
    unique, inverse = _unique_rows(values[valid])
    if unique.shape[1] == 1:
        unique_ranks = np.arange(unique.shape[0], dtype=np.int64)  # distinct values, ascending
    elif unique.shape[1] == 2:
        unique_ranks = _ranks_sorted_2d(unique)
    else:
        unique_ranks = _ranks_sorted_kd(unique)
    ranks[valid] = unique_ranks[inverse]
    return ranks


def _mask_min(values: np.ndarray) -> np.ndarray:
    """Non-dominated flags of minimisation-frame ``values``; False for rows with a NaN."""
    mask = np.zeros(values.shape[0], dtype=bool)
    valid = _valid_rows(values)
    if valid.any():
        unique, inverse = _unique_rows(values[valid])
        mask[valid] = _front_mask_sorted(unique)[inverse]
    return mask


def dominates(a: ArrayLike, b: ArrayLike, directions: Sequence[DirectionLike]) -> bool:
    """Whether point ``a`` Pareto-dominates point ``b``.

    In the minimisation frame: a_j <= b_j for all j and a_j < b_j for some j. Equal points do not
    dominate each other, and a point with a NaN objective neither dominates nor is dominated.

    Args:
        a, b: one value per objective (1-D, length k).
        directions: "minimize" or "maximize" per objective.
    """
    first = _as_float_array(a, "a")
    second = _as_float_array(b, "b")
    if first.ndim != 1 or first.shape != second.shape:
        raise ParetoError(
            f"a and b must be 1-D with one value per objective, got shapes {first.shape} and {second.shape}"
        )
    signs = direction_signs(directions, first.shape[0])
    first, second = first * signs, second * signs
    return bool(np.all(first <= second) and np.any(first < second))


def non_dominated_mask(points: ArrayLike, directions: Sequence[DirectionLike]) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (n x k) that no other row dominates: the Pareto front.

    Duplicated rows are all on the front or all off it; rows with a NaN objective are never on it and do
    not dominate others. O(n log n) for k <= 2, O(k n^2) worst case otherwise.
    """
    return _mask_min(to_minimization(points, directions))


def non_dominated_sort(points: ArrayLike, directions: Sequence[DirectionLike]) -> np.ndarray:
    """Non-dominated rank of every row of ``points`` (n x k), as in NSGA-II; int64 array of length n.

    rank 0 is the Pareto front; rank r > 0 rows are dominated by some rank r - 1 row and only by rows of
    rank < r (recursively: rank(p) = 1 + max rank of p's dominators, 0 without dominators). The ranks
    are a function of the point set alone, so the result does not depend on the row order. Duplicates
    share a rank; rows with a NaN objective get rank -1 and are ignored by all the others.
    """
    return _ranks_min(to_minimization(points, directions))
