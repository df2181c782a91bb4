"""Where trials run: a :class:`TrialBackend` starts, collects and cancels runs for the driver.

:class:`RayBackend` runs them as Ray tasks (a local instance or a cluster): the default.
:class:`InProcessBackend` runs them in the driver's own process, one at a time: tests, debugging.
:class:`SimulatedBackend` replays a :class:`ResultsTable` on a simulated clock: benchmarks of search
strategies that take seconds instead of CPU-days.
"""

from nas.study.backends._base import TrialBackend
from nas.study.backends._inprocess import InProcessBackend
from nas.study.backends._ray_backend import RayBackend
from nas.study.backends._simulated import SimulatedBackend, SimulatedEvent
from nas.study.backends.table import ResultsTable, TabulatedRung

__all__ = [
    "InProcessBackend",
    "RayBackend",
    "ResultsTable",
    "SimulatedBackend",
    "SimulatedEvent",
    "TabulatedRung",
    "TrialBackend",
]
