"""Where trials run: a :class:`TrialBackend` starts, collects and cancels runs for the driver.

:class:`RayBackend` runs them as Ray tasks (a local instance or a cluster): the default.
:class:`InProcessBackend` runs them in the driver's own process, one at a time: tests, debugging.
"""

from nas.study.backends.base import TrialBackend
from nas.study.backends.inprocess import InProcessBackend
from nas.study.backends.ray_backend import RayBackend

__all__ = ["InProcessBackend", "RayBackend", "TrialBackend"]
