"""Trials replayed from a results table on a simulated clock: a whole study in seconds, through the real
driver, sampler and scheduler (in the spirit of Syne Tune's simulated backend on tabulated benchmarks).

Each started run looks its architecture and rung budget up in the table and ends after the
tabulated training seconds on the simulated clock; ``workers`` runs proceed at once, as on a
cluster with that many trial slots. A promotion that continues a checkpoint takes that rung's own
seconds; a run that starts over (no checkpoint to continue, or ``checkpoints=False``: promotions as
they were before they continued from checkpoints) takes the seconds of every rung up to its own.
``collect`` never waits: it moves the clock to the next run's end. An architecture or budget the
table lacks fails that trial with the reason (simulate the table's own space and training budget).
``events`` records when each run started and ended, for curves against simulated time.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from nas.study.backends.table import ResultsTable
from nas.study.requests import TrialRequest, TrialResult
from nas.tasks import TaskResult, TrainingRun


@dataclass(frozen=True)
class SimulatedEvent:
    """A run of trial ``trial`` at rung ``rung`` started or ended at simulated second ``time``."""

    time: float
    trial: int
    rung: int
    ended: bool


class SimulatedBackend:
    """Replays ``table`` (see the module docstring); ``now`` is the simulated clock in seconds."""

    def __init__(self, table: ResultsTable, *, workers: int = 1, checkpoints: bool = True) -> None:
        self.table = table
        self.workers = workers
        self.checkpoints = checkpoints
        self.now = 0.0
        self.events: list[SimulatedEvent] = []
        self._queue: list[tuple[float, int, TrialResult]] = []  # (end time, order, result): a heap
        self._order = itertools.count()
        self._reached: dict[int, int] = {}  # trial -> the highest table rung it has been trained to

    def capacity(self) -> int:
        return self.workers

    def start(self, request: TrialRequest) -> None:
        self.events.append(SimulatedEvent(self.now, request.trial, request.rung, ended=False))
        try:
            index, rung = self.table.rung(request.arch.id, str(request.budget))
        except KeyError as error:
            result = TrialResult(request, error=f"SimulationError: {error.args[0]}")
            heapq.heappush(self._queue, (self.now, next(self._order), result))
            return
        continues = self.checkpoints and request.resume_from is not None
        below = self._reached.get(request.trial, -1) if continues else -1
        tabulated = self.table.rungs[request.arch.id]
        seconds = sum(tabulated[step].seconds for step in range(below + 1, index + 1))
        before = sum(tabulated[step].seconds for step in range(below + 1))
        steps = request.budget.steps or 0
        training = TrainingRun("completed", None, steps, 0.0, before + seconds, (), previous_seconds=before)
        task = TaskResult(
            request.task,
            "completed",
            None,
            dict(rung.metrics),
            training,
            eval_seconds=0.0,
            parameters=0,
            seed=request.training.seed,
            budget=rung.budget,
            checkpoint=request.checkpoint_to if self.checkpoints else None,  # as if written: a promotion continues it
        )
        self._reached[request.trial] = index
        heapq.heappush(self._queue, (self.now + seconds, next(self._order), TrialResult(request, task=task)))

    def collect(self, timeout: float) -> list[TrialResult]:
        if not self._queue:
            return []
        end = self._queue[0][0]
        self.now = max(self.now, end)
        ended = []
        while self._queue and self._queue[0][0] <= end:
            _, _, result = heapq.heappop(self._queue)
            self.events.append(SimulatedEvent(self.now, result.request.trial, result.request.rung, ended=True))
            ended.append(result)
        return ended

    def cancel(self, request: TrialRequest) -> None:
        self._queue = [entry for entry in self._queue if entry[2].request.key != request.key]
        heapq.heapify(self._queue)
