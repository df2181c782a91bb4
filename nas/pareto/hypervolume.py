"""Exact dominated hypervolume, exclusive contributions, the share of the ideal box, and a default reference point.

In the minimisation frame, the hypervolume of a point set S relative to a reference point r is the
Lebesgue measure of the region the points dominate up to r:

    HV(S, r) = vol( union over p in S of the box [p_1, r_1) x ... x [p_k, r_k) ).

Only points strictly better than r in every objective span a box of positive volume, so every other
point (including rows with a NaN) is filtered out first; that is also why r must be finite. A point
at -inf in the frame (an infinitely good value) would make the volume infinite and is rejected.

Algorithms (n points after filtering; all exact; each function's docstring gives its argument):

* k = 1: r - min(p).
* k = 2: the non-dominated points sorted by the first objective form a staircase; a sweep adds one
  rectangle per point, O(n log n).
* k = 3: a sweep along the third objective keeps the 2-D front of the points seen so far in a sorted
  list and updates its dominated area by the exact area each inserted point adds (HV3D-style);
  HV = sum over slabs of area * slab height, O(n log n) comparisons plus list moves.
* k >= 4: slicing by the last objective (as in HSO), the (k-1)-D volume of each slab's front being
  kept incrementally: adding p to a front F adds exactly box(p) - HV({max(p, q) : q in F}), the
  *limit set* volume of WFG, computed recursively down to the 3-D sweep.

The exclusive contribution of p in S is HV(S) - HV(S without p) = box(p) - HV({max(p, q) : q != p}),
which is 0 for dominated points and for each copy of a duplicated point.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from nas.pareto._directions import DirectionLike, _as_float_array, direction_signs, to_minimization
from nas.pareto._dominance import _front_mask_sorted, _mask_min, _non_dominated_min, _unique_rows, _valid_rows
from nas.pareto._errors import ParetoError


def _reference_min(reference: ArrayLike, signs: np.ndarray) -> np.ndarray:
    """The reference point in the minimisation frame, checked to be finite with one value per objective."""
    array = _as_float_array(reference, "reference")
    if array.shape != signs.shape:
        raise ParetoError(
            f"reference must have one value per objective ({signs.shape[0]}), got shape {array.shape}: {array.tolist()}"
        )
    if not np.isfinite(array).all():
        raise ParetoError(f"reference must be finite in every objective, got {array.tolist()}")
    return array * signs


def _prepare(
    points: ArrayLike, reference: ArrayLike, directions: Sequence[DirectionLike]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points and reference in the minimisation frame, and the mask of points strictly inside the reference."""
    values = to_minimization(points, directions)
    signs = direction_signs(directions, values.shape[1])
    ref = _reference_min(reference, signs)
    inside = _inside_reference(values, ref, lambda row: f"points row {row} is {_row_text(values[row] * signs)}")
    return values, ref, inside


def _inside_reference(values: np.ndarray, ref: np.ndarray, name_row: Callable[[int], str]) -> np.ndarray:
    """Mask of the rows (minimisation frame) strictly inside ``ref``: False for NaN rows, +inf values and
    values at or after the reference. A row inside with a -inf value would make the volume infinite, which
    no caller can use, so it is refused here, named by ``name_row(row index)``, for every caller alike."""
    inside = np.all(values < ref, axis=1)
    infinite = inside & np.isinf(values).any(axis=1)
    if infinite.any():
        raise ParetoError(
            f"{name_row(int(np.flatnonzero(infinite)[0]))}: an infinitely good objective value makes the hypervolume"
            " infinite; drop or clip such rows"
        )
    return inside


def _row_text(row: np.ndarray) -> str:
    """A row of objective values as text, for error messages."""
    return "[" + ", ".join(repr(float(value)) for value in row) + "]"


def _hv_2d_sorted(front: np.ndarray, ref: np.ndarray) -> float:
    """Area of a 2-D staircase: distinct non-dominated points sorted by x ascending (so y descending).

    Point i owns the column [x_i, x_{i+1}) x [y_i, r_y) with x_{n} = r_x; the columns tile the union.
    """
    widths = np.diff(np.append(front[:, 0], ref[0]))
    return float(np.dot(widths, ref[1] - front[:, 1]))


def _insert_2d(xs: list[float], ys: list[float], x: float, y: float, ref_x: float, ref_y: float) -> float:
    """Insert (x, y) into the 2-D front (xs ascending, ys descending) and return the area it adds.

    If a front point q has q_x <= x and q_y <= y the point adds nothing. Otherwise it removes the front
    points it weakly dominates (a contiguous run starting at the first q_x >= x) and adds, over
    [x, right), the strip between y and the staircase height, where the height is the y of the last
    front point left of each abscissa (r_y when there is none) and ``right`` is the x of the first
    front point below y (r_x when there is none).
    """
    after = bisect_right(xs, x)
    if after > 0 and ys[after - 1] <= y:  # the rightmost point with q_x <= x has the lowest such q_y
        return 0.0
    start = bisect_left(xs, x)
    stop = start
    while stop < len(xs) and ys[stop] >= y:
        stop += 1
    right = xs[stop] if stop < len(xs) else ref_x
    current_x = x
    height = ys[start - 1] if start > 0 else ref_y
    gain = 0.0
    for index in range(start, stop):
        gain += (xs[index] - current_x) * (height - y)
        current_x, height = xs[index], ys[index]
    gain += (right - current_x) * (height - y)
    xs[start:stop] = [x]
    ys[start:stop] = [y]
    return gain


def _hv_3d(values: np.ndarray, ref: np.ndarray) -> float:
    """3-D volume by a sweep along z: sum over slabs [z_i, z_{i+1}) of the area of the 2-D front so far.

    Dominated and duplicated points need no filtering: their insertion adds zero area.
    """
    order = np.argsort(values[:, 2], kind="stable")
    rows = values[order].tolist()
    ref_x, ref_y, ref_z = (float(value) for value in ref)
    xs: list[float] = []
    ys: list[float] = []
    area = 0.0
    volume = 0.0
    for index, (x, y, z) in enumerate(rows):
        area += _insert_2d(xs, ys, x, y, ref_x, ref_y)
        upper = rows[index + 1][2] if index + 1 < len(rows) else ref_z
        volume += area * (upper - z)
    return volume


def _hv_slices(front: np.ndarray, ref: np.ndarray) -> float:
    """k-D volume (k >= 4) by slicing along the last objective, the slab fronts' volume kept incrementally.

    Sorted by the last objective, slab i spans [z_i, z_{i+1}) and its cross-section is the union of the
    boxes of the first i + 1 points projected on the other k - 1 objectives. When a projected point p
    is not weakly dominated by the current cross-section front F, the cross-section grows by
    box(p) - HV(limit set {max(p, q) : q in F}), computed recursively; otherwise it is unchanged.
    """
    order = np.argsort(front[:, -1], kind="stable")
    rows = front[order]
    heights = np.diff(np.append(rows[:, -1], ref[-1]))
    sub_ref = ref[:-1]
    section = rows[:0, :-1]
    area = 0.0
    volume = 0.0
    for point, height in zip(rows[:, :-1], heights, strict=True):
        if not (section <= point).all(axis=1).any():
            limits = np.maximum(section, point)
            gain = float(np.prod(sub_ref - point)) - _hv_min(limits, sub_ref)
            area += max(gain, 0.0)  # exact arithmetic gives gain > 0; never let rounding shrink the volume
            section = np.concatenate([section[~(point <= section).all(axis=1)], point[None, :]])
        volume += area * height
    return volume


def _hv_min(values: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of NaN-free, finite minimisation-frame rows that are all strictly inside ``ref``."""
    if values.shape[0] == 0:
        return 0.0
    k = values.shape[1]
    if k == 1:
        return float(ref[0] - values[:, 0].min())
    if k == 3:
        return _hv_3d(values, ref)
    front = _non_dominated_min(values)  # lexicographically sorted: x ascending, so y descending for k = 2
    if k == 2:
        return _hv_2d_sorted(front, ref)
    return _hv_slices(front, ref)


def _contributions_2d(unique: np.ndarray, front_mask: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive contributions of distinct 2-D points (lexicographically sorted), front points only.

    Front point i (x ascending, y descending) exclusively covers the cell [x_i, x_{i+1}) x [y_i, y_{i-1})
    (with x_n = r_x, y_{-1} = r_y) minus what the points dominated by p_i cover inside that cell; a
    dominated point inside the cell is dominated by p_i alone, so each dominated point is used once.
    """
    front = unique[front_mask]
    upper_x = np.append(front[1:, 0], ref[0])
    upper_y = np.insert(front[:-1, 1], 0, ref[1])
    contributions = (upper_x - front[:, 0]) * (upper_y - front[:, 1])
    dominated = unique[~front_mask]
    if dominated.shape[0]:
        cell = np.searchsorted(front[:, 0], dominated[:, 0], side="right") - 1
        in_cell = (cell >= 0) & (dominated[:, 1] < upper_y[np.maximum(cell, 0)])
        for index in np.unique(cell[in_cell]):
            local_ref = np.array([upper_x[index], upper_y[index]])
            members = dominated[in_cell & (cell == index)]
            contributions[index] -= _hv_min(members, local_ref)  # members lie strictly inside the cell
    full = np.zeros(unique.shape[0])
    full[front_mask] = contributions
    return full


def _contributions_kd(unique: np.ndarray, front_mask: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive contributions of distinct points (k >= 3): box(p) - HV({max(p, q) : q != p}).

    Only the other front points and the points p dominates can bound p's exclusive region; the limit
    of a point dominated by another front point q' is weakly dominated by max(p, q').
    """
    full = np.zeros(unique.shape[0])
    front_indices = np.flatnonzero(front_mask)
    for index in front_indices:
        point = unique[index]
        others = front_mask.copy()
        others |= (point <= unique).all(axis=1)
        others[index] = False
        limits = np.maximum(unique[others], point)
        full[index] = max(float(np.prod(ref - point)) - _hv_min(limits, ref), 0.0)
    return full


def hypervolume(points: ArrayLike, reference: ArrayLike, directions: Sequence[DirectionLike]) -> float:
    """Exact hypervolume dominated by ``points`` (n x k) up to ``reference`` (length k).

    Args:
        points: objective values, one row per point. Rows that are not strictly better than the
            reference in every objective (including rows with a NaN) contribute nothing and are ignored.
        reference: a finite point, in the same directions as ``points``, that should be worse than every
            point of interest (see :func:`reference_point` for a default).
        directions: "minimize" or "maximize" per objective.

    Returns:
        The volume as a float (0.0 when no point is inside the reference box).

    Raises:
        ParetoError: bad shapes or directions, a non-finite reference, or a point inside the reference
            with an infinitely good value.
    """
    values, ref, inside = _prepare(points, reference, directions)
    return _hv_min(values[inside], ref)


def hypervolume_contributions(
    points: ArrayLike, reference: ArrayLike, directions: Sequence[DirectionLike]
) -> np.ndarray:
    """Exclusive hypervolume contribution of every row: HV(all points) - HV(all points but that row).

    Same arguments and filtering as :func:`hypervolume`. Dominated rows, rows outside the reference box
    (or with a NaN) and every copy of a duplicated row contribute 0.0.
    """
    values, ref, inside = _prepare(points, reference, directions)
    result = np.zeros(values.shape[0])
    rows = np.flatnonzero(inside)
    if rows.size == 0:
        return result
    unique, inverse = _unique_rows(values[rows])
    front_mask = _front_mask_sorted(unique)
    if unique.shape[1] == 1:
        contributions = np.zeros(unique.shape[0])
        second = unique[1, 0] if unique.shape[0] > 1 else ref[0]
        contributions[0] = second - unique[0, 0]
    elif unique.shape[1] == 2:
        contributions = _contributions_2d(unique, front_mask, ref)
    else:
        contributions = _contributions_kd(unique, front_mask, ref)
    contributions[np.bincount(inverse, minlength=unique.shape[0]) > 1] = 0.0  # removing one copy loses nothing
    result[rows] = contributions[inverse]
    return result


def reference_point(
    points: ArrayLike, directions: Sequence[DirectionLike], margin: float = 0.1, *, front_only: bool = True
) -> np.ndarray:
    """A default reference point: the nadir pushed outwards by ``margin`` times the range, per objective.

    In the minimisation frame, over the Pareto front of the NaN-free rows (or over all of them when
    ``front_only`` is False):

        nadir_j = max_p p_j,   ideal_j = min_p p_j,
        r_j = nadir_j + margin * (nadir_j - ideal_j)          if nadir_j > ideal_j,
        r_j = nadir_j + margin * max(|nadir_j|, 1)            otherwise (a single value),

    then mapped back to the original directions (a maximised objective gets nadir - margin * range in
    its own units). The nadir of the front is the usual choice (it makes every front point, and hence
    the whole front, count); ``front_only=False`` also lets dominated points count, which suits
    hypervolume histories where early trials are later dominated.

    Args:
        points: n x k objective values; rows with a NaN are ignored.
        directions: "minimize" or "maximize" per objective.
        margin: the relative offset, >= 0. With margin 0 the points at the nadir contribute nothing.
        front_only: use the Pareto front (default) or all NaN-free rows.

    Raises:
        ParetoError: no row without NaN, a negative or non-finite margin, or an infinite nadir.
    """
    values = to_minimization(points, directions)
    signs = direction_signs(directions, values.shape[1])
    if not np.isfinite(margin) or margin < 0:
        raise ParetoError(f"margin must be a finite number >= 0, got {margin!r}")
    valid = _valid_rows(values)
    if not valid.any():
        raise ParetoError(f"points has no row without NaN ({values.shape[0]} rows); cannot derive a reference point")
    values = values[valid]
    if front_only:
        values = values[_mask_min(values)]
    nadir = values.max(axis=0)
    ideal = values.min(axis=0)
    if not np.isfinite(nadir).all():
        raise ParetoError(
            f"the worst value of some objective is infinite (nadir {_row_text(nadir * signs)}); "
            "give an explicit finite reference"
        )
    span = nadir - ideal
    offset = np.where(span > 0, margin * span, margin * np.maximum(np.abs(nadir), 1.0))
    reference = nadir + offset
    if not np.isfinite(reference).all():
        raise ParetoError(
            f"the range of some objective is infinite (best {_row_text(ideal * signs)}, worst "
            f"{_row_text(nadir * signs)}); give an explicit finite reference"
        )
    return reference * signs


def ideal_box_volume(points: ArrayLike, reference: ArrayLike, directions: Sequence[DirectionLike]) -> float:
    """Volume of the box between ``reference`` and the ideal point of ``points``: the most any front could cover.

    The ideal point takes each objective's best finite value over the rows (a NaN or infinite entry is
    skipped in its column only). Hypervolumes multiply units (accuracy x FLOPs x bytes gives 1e18 and up),
    so dividing by this volume turns one into a share in [0, 1] that reads without knowing the scales.

    Returns NaN when the box is empty: a column without a finite value, or an ideal value not strictly
    better than the reference.
    """
    values = to_minimization(points, directions)
    signs = direction_signs(directions, values.shape[1])
    ref = _reference_min(reference, signs)
    volume = 1.0
    for column, limit in zip(values.T, ref, strict=True):
        finite = column[np.isfinite(column)]
        if finite.size == 0 or not finite.min() < limit:
            return float("nan")
        volume *= float(limit - finite.min())
    return volume if volume > 0 else float("nan")


def normalised_hypervolume(
    points: ArrayLike,
    reference: ArrayLike,
    directions: Sequence[DirectionLike],
    *,
    ideal_of: ArrayLike | None = None,
) -> float:
    """The share of the ideal box (:func:`ideal_box_volume`) that ``points`` dominate, in [0, 1].

    ``ideal_of`` gives the rows whose best values make the ideal point (default: ``points``; a comparison
    of several studies passes all their rows, so every study is measured against one box). NaN when the
    box is empty. A single front point fills its own box, so the share means most with several points.
    """
    box = ideal_box_volume(points if ideal_of is None else ideal_of, reference, directions)
    if not np.isfinite(box):
        return float("nan")
    return hypervolume(points, reference, directions) / box
