"""Independent truths for the Pareto tests, written as plainly as possible (loops and counting).

Nothing here imports :mod:`nas.pareto`; directions are handled in the original frame, objective by
objective, so the library's minimisation-frame conversion is checked rather than reused.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np


def better_or_equal(x: float, y: float, direction: str) -> bool:
    """x is at least as good as y in one objective."""
    return x <= y if direction == "minimize" else x >= y


def strictly_better(x: float, y: float, direction: str) -> bool:
    return x < y if direction == "minimize" else x > y


def brute_dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """a dominates b: at least as good everywhere and strictly better somewhere (False with any NaN)."""
    if any(math.isnan(x) for x in [*a, *b]):
        return False
    everywhere = all(better_or_equal(x, y, d) for x, y, d in zip(a, b, directions, strict=True))
    somewhere = any(strictly_better(x, y, d) for x, y, d in zip(a, b, directions, strict=True))
    return everywhere and somewhere


def brute_dominators(points: np.ndarray, directions: Sequence[str]) -> list[list[int]]:
    """For every row, the rows that dominate it (double loop)."""
    rows = points.tolist()
    return [[j for j, other in enumerate(rows) if brute_dominates(other, row, directions)] for row in rows]


def brute_front(points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Rows that no other row dominates, excluding rows with a NaN."""
    dominators = brute_dominators(points, directions)
    return np.array([not dominators[i] and not np.isnan(points[i]).any() for i in range(len(points))], dtype=bool)


def grid_hypervolume(points: np.ndarray, reference: Sequence[int], directions: Sequence[str]) -> int:
    """Hypervolume of integer points by counting dominated unit cells of the integer grid.

    Per objective, the cells [c, c + 1) between the points and the reference are: for "minimize",
    c = min(points) .. reference - 1, covered by p when p <= c; for "maximize", c = reference ..
    max(points) - 1, covered by p when p >= c + 1. A cell is dominated when one point covers it in every
    objective. Points beyond the reference cover no cell of that range, so they are ignored by
    construction.
    """
    points = np.asarray(points, dtype=np.int64).reshape(-1, len(directions))
    if len(points) == 0:
        return 0
    axes = []
    for j, direction in enumerate(directions):
        if direction == "minimize":
            axes.append(np.arange(points[:, j].min(), reference[j]))
        else:
            axes.append(np.arange(reference[j], points[:, j].max()))
    if any(len(axis) == 0 for axis in axes):
        return 0
    cells = np.array(list(itertools.product(*axes)), dtype=np.int64)  # (cells, k)
    covered = np.ones((len(cells), len(points)), dtype=bool)
    for j, direction in enumerate(directions):
        if direction == "minimize":
            covered &= points[None, :, j] <= cells[:, None, j]
        else:
            covered &= points[None, :, j] >= cells[:, None, j] + 1
    return int(covered.any(axis=1).sum())
