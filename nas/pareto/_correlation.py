"""Rank correlation between two scorings of the same items: Kendall's tau-b and Spearman's rho.

Used to say how well a cheap quality estimate (a supernet's) ranks architectures the way stand-alone
training does. Only the order matters for a search, so rank correlations, not Pearson's r on values.
Both handle ties the standard way (tau-b's tie correction, average ranks for rho) and are exact:
confirmation sets have tens of points, so the O(n^2) pair count is microseconds and needs no SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _checked(x: Sequence[float], y: Sequence[float]) -> int:
    if len(x) != len(y):
        raise ValueError(f"rank correlation: got {len(x)} and {len(y)} values; allowed: two sequences of equal length")
    return len(x)


def concordance(x: Sequence[float], y: Sequence[float]) -> tuple[int, int, int, int]:
    """``(concordant, discordant, tied in x only, tied in y only)`` over all pairs (pairs tied in both count in none).

    A pair (i, j) is concordant when x and y order it the same way, discordant when opposite.
    """
    n = _checked(x, y)
    concordant = discordant = tied_x = tied_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tied_x += 1
            elif dy == 0:
                tied_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    return concordant, discordant, tied_x, tied_y


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b: ``(C - D) / sqrt((C + D + Tx) (C + D + Ty))``; NaN when undefined (fewer than two
    points, or one side constant), so a report shows "n/a" rather than a made-up number."""
    concordant, discordant, tied_x, tied_y = concordance(x, y)
    ordered = concordant + discordant
    denominator = math.sqrt((ordered + tied_x) * (ordered + tied_y))
    return (concordant - discordant) / denominator if denominator > 0 else math.nan


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the mean of the ranks they span (``[10, 20, 20, 30]`` -> ``[1, 2.5, 2.5, 4]``)."""
    order = sorted(range(len(values)), key=lambda index: values[index])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman_rho(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson's correlation of the average ranks; NaN when undefined (as :func:`kendall_tau`)."""
    n = _checked(x, y)
    if n < 2:
        return math.nan
    rx, ry = average_ranks(x), average_ranks(y)
    mx, my = sum(rx) / n, sum(ry) / n
    covariance = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    spread = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return covariance / spread if spread > 0 else math.nan
