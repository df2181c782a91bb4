"""Trials run in the driver's own process, one at a time, when they start: no Ray, no parallelism.

For tests and for debugging a trial function: a breakpoint or a traceback in it is the driver's. A
run happens inside :meth:`InProcessBackend.start`, so the driver renews no heartbeat meanwhile:
keep trials short when other drivers share the study (they consider a silent driver on another
machine dead after two minutes). An exception in the trial function fails the trial with its
headline, as on Ray; nothing here is ever ``lost``.
"""

from __future__ import annotations

from nas.study.requests import TrialFunction, TrialRequest, TrialResult, describe_exception
from nas.study.worker import run_trial


class InProcessBackend:
    """Runs each request at once in this process (see the module docstring)."""

    def __init__(self, trial_function: TrialFunction = run_trial) -> None:
        self._trial_function = trial_function
        self._ended: list[TrialResult] = []

    def capacity(self) -> int:
        return 1

    def start(self, request: TrialRequest) -> None:
        try:
            result = TrialResult(request, task=self._trial_function(request))
        except Exception as error:  # the trial's failure, with its reason, as on a Ray worker
            result = TrialResult(request, error=describe_exception(error))
        self._ended.append(result)

    def collect(self, timeout: float) -> list[TrialResult]:
        ended, self._ended = self._ended, []
        return ended

    def cancel(self, request: TrialRequest) -> None:
        self._ended = [result for result in self._ended if result.request.key != request.key]
