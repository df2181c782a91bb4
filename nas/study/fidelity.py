"""Multi-fidelity by asynchronous successive halving on Pareto rank (in the spirit of MO-ASHA).

Optuna's pruners do not support multi-objective studies, so promotion is ours. Every architecture
first trains at the lowest rung's budget. Whenever a worker is free, the driver looks for a
*promotable* trial, from the highest rung down: one among the best ``floor(n / eta)`` of the ``n``
trials that finished that rung, by non-dominated rank and then crowding distance (NSGA-II's
order, so the promoted set spreads along the front), that has not been promoted yet. Only when
none is promotable does it ask Optuna for a new architecture. Trials that end below the top rung
are told PRUNED (their low-fidelity results stay in their attributes); only top-rung results are
told COMPLETE, so the study's Pareto front is made of full-fidelity results alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nas.pareto import crowding_distance, non_dominated_sort


def promotion_order(results: Mapping[int, Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Trial numbers ordered best first: by non-dominated rank, then larger crowding, then number.

    A result with a NaN objective sorts last.
    """
    if not results:
        return []
    numbers = sorted(results)
    points = np.array([list(results[number]) for number in numbers], dtype=float)
    ranks = non_dominated_sort(points, directions)
    crowding = crowding_distance(points, directions, ranks=ranks)
    keys = []
    for index, number in enumerate(numbers):
        rank = ranks[index] if ranks[index] >= 0 else np.iinfo(np.int64).max
        spread = crowding[index] if np.isfinite(crowding[index]) or crowding[index] > 0 else 0.0
        keys.append((rank, -spread, number))
    return [key[2] for key in sorted(keys)]


def promotable(
    results: Mapping[int, Sequence[float]], promoted: set[int], directions: Sequence[str], eta: int
) -> list[int]:
    """Trials of one rung that may move up now: in the top ``floor(n / eta)`` and not yet promoted."""
    top = promotion_order(results, directions)[: len(results) // eta]
    return [number for number in top if number not in promoted]
