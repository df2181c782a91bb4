"""Whether an asked architecture may train at all: the config's cost constraints, then the machine's memory.

Both are decided from the cost model alone, before any training: a violation is told PRUNED with
the reason and costs no training (and, with ``budget.count: trained``, no budget).
"""

from __future__ import annotations

import time

from nas.study import memory
from nas.study.config import StudyConfig

MEMORY_REFRESH_SECONDS = 60.0
"""How long the largest worker's memory (for the memory guard) is reused before asking Ray again."""


class Admission:
    """Says why an architecture of a given cost must not train, or nothing when it may."""

    def __init__(self, config: StudyConfig, *, needs_training: bool) -> None:
        self._config = config
        self._needs_training = needs_training
        self._memory: tuple[float, int | None] | None = None  # (when asked, largest node's schedulable memory)

    def refusal(self, cost: dict[str, float]) -> str | None:
        """The reason ``cost`` may not train: the violated constraints, else too much memory; or ``None``."""
        violated = [c for c in self._config.constraints if not c.satisfied_by(cost[c.name])]
        if violated:
            return "; ".join(f"constraint {c} violated ({c.name} = {cost[c.name]:.6g})" for c in violated)
        return self._exceeds_memory(cost["train_peak_bytes"])

    def _exceeds_memory(self, peak_bytes: float) -> str | None:
        """Why a trial predicted to need more memory than any node can reserve must not train, or ``None``.

        Trials on CPUs train in host memory and reserve it (:mod:`nas.study.memory`); one whose
        reservation exceeds the largest node's would wait forever, and a node without the memory would
        kill it. GPU trials are left to the config's constraints: device memory is not known here.
        """
        if not self._needs_training or self._config.resources.gpus > 0:
            return None
        now = time.monotonic()
        if self._memory is None or now - self._memory[0] > MEMORY_REFRESH_SECONDS:
            self._memory = (now, memory.largest_node_memory_bytes())  # a cluster-wide query: not once per trial
        available = self._memory[1]
        if available is None or memory.trial_reservation_bytes(peak_bytes) <= available:
            return None
        return memory.does_not_fit(peak_bytes, available, batch=self._config.cost.batch)
