"""Kendall's tau-b and Spearman's rho against definitions computed independently (enumerated pairs, ranks)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from nas.pareto import kendall_tau, spearman_rho
from nas.pareto._correlation import average_ranks, concordance


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _tau_by_enumeration(x: list[float], y: list[float]) -> float:
    """tau-b straight from its definition: sums of sign products over every ordered pair."""
    pairs = list(itertools.permutations(range(len(x)), 2))
    both = sum(_sign(x[i] - x[j]) * _sign(y[i] - y[j]) for i, j in pairs)
    norm_x = sum(_sign(x[i] - x[j]) ** 2 for i, j in pairs)
    norm_y = sum(_sign(y[i] - y[j]) ** 2 for i, j in pairs)
    return both / math.sqrt(norm_x * norm_y)


def test_concordant_pairs_are_counted_as_enumerated() -> None:
    x, y = [1, 2, 3, 4], [1, 3, 2, 4]  # one swapped pair of six
    assert concordance(x, y) == (5, 1, 0, 0)
    assert kendall_tau(x, y) == pytest.approx((5 - 1) / 6)


@pytest.mark.parametrize("seed", range(20))
def test_tau_b_and_rho_match_their_definitions_with_ties(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(3, 12)
    x = [float(rng.randint(0, 4)) for _ in range(n)]  # few distinct values: many ties
    y = [float(rng.randint(0, 4)) for _ in range(n)]
    if len(set(x)) == 1 or len(set(y)) == 1:
        x[0], y[0] = -1.0, -1.0
    assert kendall_tau(x, y) == pytest.approx(_tau_by_enumeration(x, y))
    rx, ry = average_ranks(x), average_ranks(y)
    mx, my = sum(rx) / n, sum(ry) / n
    pearson = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True)) / math.sqrt(
        sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)
    )
    assert spearman_rho(x, y) == pytest.approx(pearson)


def test_without_ties_rho_is_the_textbook_formula() -> None:
    x, y = [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]
    d2 = sum((a - b) ** 2 for a, b in zip(average_ranks(x), average_ranks(y), strict=True))
    assert spearman_rho(x, y) == pytest.approx(1 - 6 * d2 / (5 * (25 - 1)))
    assert spearman_rho(x, [-v for v in x]) == pytest.approx(-1.0)
    assert kendall_tau(x, x) == 1.0


def test_average_ranks_share_ties() -> None:
    assert average_ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]


def test_undefined_correlations_are_nan_not_invented() -> None:
    assert math.isnan(kendall_tau([1.0], [2.0]))
    assert math.isnan(spearman_rho([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="equal length"):
        kendall_tau([1.0, 2.0], [1.0])
