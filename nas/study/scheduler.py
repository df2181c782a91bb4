"""Multi-fidelity by asynchronous successive halving on Pareto rank (in the spirit of MO-ASHA).

Optuna's pruners do not support multi-objective studies, so promotion is ours. Every architecture
first trains at the lowest rung's budget. Whenever a worker is free, the driver asks the scheduler
for a *promotable* trial, from the highest rung down: one among the best ``floor(n / eta)`` of the
``n`` trials that finished that rung, by non-dominated rank and then crowding distance (NSGA-II's
order, so the promoted set spreads along the front), that has not been promoted yet and is paused
here. Only when none is promotable does the driver ask Optuna for a new architecture. Trials that
end below the top rung are told PRUNED (their low-fidelity results stay in their attributes); only
top-rung results are told COMPLETE, so the study's Pareto front is made of full-fidelity results.

The scheduler owns the rung state: each rung's results, which trials left each rung, and the
trials paused between rungs (with whatever the driver needs to continue them). It reads nothing
from storage itself; the driver hands it the stored rung records of a resumed study.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from nas.pareto import crowding_distance, non_dominated_sort

Paused = TypeVar("Paused")


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


class RungScheduler(Generic[Paused]):
    """Rung results, promotions and paused trials of one study (see the module docstring).

    ``rungs`` are the budget fractions, ascending and ending at 1; a single rung (full fidelity)
    never pauses or promotes anything.
    """

    def __init__(self, rungs: Sequence[float], directions: Sequence[str], eta: int) -> None:
        self.rungs = tuple(rungs)
        self.top = len(self.rungs) - 1
        self._directions = list(directions)
        self._eta = eta
        self._results: list[dict[int, list[float]]] = [{} for _ in self.rungs]
        self._promoted: list[set[int]] = [set() for _ in self.rungs]
        self._paused: dict[int, Paused] = {}

    def load(self, number: int, records: Iterable[Mapping[str, Any]]) -> int:
        """Take trial ``number``'s stored rung records (``rung``, ``objectives``) into the ranking, a rung it
        went beyond as promoted; returns its last rung (-1 without records). Records of rungs this
        schedule does not have below its top (the study's fidelity changed) are left out."""
        records = list(records)
        last = max((record["rung"] for record in records), default=-1)
        for record in records:
            rung = record["rung"]
            if rung < self.top:
                self._results[rung][number] = list(record["objectives"])
                if rung < last:
                    self._promoted[rung].add(number)
        return last

    def pause(self, number: int, rung: int, objectives: Sequence[float] | None, item: Paused) -> None:
        """Trial ``number`` finished ``rung`` (below the top) with ``objectives`` (``None``: already loaded)
        and waits for a promotion; ``item`` is what continues it."""
        if objectives is not None:
            self._results[rung][number] = list(objectives)
        self._paused[number] = item

    def candidate(self) -> tuple[int, int] | None:
        """``(rung, trial number)`` of the paused trial to promote next (highest rung first), if any."""
        for rung in range(self.top - 1, -1, -1):
            for number in promotable(self._results[rung], self._promoted[rung], self._directions, self._eta):
                if number in self._paused:
                    return rung, number
        return None

    def promote(self) -> tuple[int, Paused] | None:
        """Take the next promotion: ``(the rung it moves to, its item)``, or ``None``."""
        found = self.candidate()
        if found is None:
            return None
        rung, number = found
        self._promoted[rung].add(number)
        return rung + 1, self._paused.pop(number)

    def is_paused(self, number: int) -> bool:
        return number in self._paused

    def paused(self) -> list[Paused]:
        """What each paused trial's item is, in trial order."""
        return [self._paused[number] for number in sorted(self._paused)]

    def drain(self) -> list[Paused]:
        """End of the search: every paused trial's item, in trial order; none stays paused."""
        items = self.paused()
        self._paused.clear()
        return items
