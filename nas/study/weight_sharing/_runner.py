"""Where supernet work runs: Ray tasks (the default) or the driver's own process (tests, debugging).

The trial backends run :class:`~nas.study.requests.TrialRequest` values only; supernet training and
estimation are other functions with other resources, so they get this smaller runner instead of a
second meaning for the trial protocol. ``submit`` starts one call, ``collect`` returns the calls
that ended as ``(key, value, error)``: exactly one of ``value`` and ``error`` is set, and an error
is the call's headline (``Type: message``), whatever killed it (an exception, a dead worker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from nas.study.requests import describe_exception

Ended = tuple[Any, Any, str | None]


class TaskRunner(Protocol):
    """Runs functions for the weight-sharing strategy (see the module docstring)."""

    def capacity(self, cpus: float, gpus: float) -> int:
        """How many calls needing ``cpus`` and ``gpus`` each may run at once."""
        ...

    def submit(self, key: Any, function: Callable[[Any], Any], argument: Any, *, cpus: float, gpus: float) -> None:
        """Start ``function(argument)``; its result comes back from :meth:`collect` under ``key``."""
        ...

    def collect(self, timeout: float) -> list[Ended]:
        """The calls that ended since the last call, waiting up to ``timeout`` seconds for the first."""
        ...

    def cancel_all(self) -> None:
        """Give up on every call in flight (the driver stops on an error)."""
        ...


class InProcessRunner:
    """Runs each call at once in this process, as :class:`~nas.study.backends.InProcessBackend` runs trials."""

    def __init__(self) -> None:
        self._ended: list[Ended] = []

    def capacity(self, cpus: float, gpus: float) -> int:
        return 1

    def submit(self, key: Any, function: Callable[[Any], Any], argument: Any, *, cpus: float, gpus: float) -> None:
        try:
            self._ended.append((key, function(argument), None))
        except Exception as error:  # the call's failure, with its reason, as on a Ray worker
            self._ended.append((key, None, describe_exception(error)))

    def collect(self, timeout: float) -> list[Ended]:
        ended, self._ended = self._ended, []
        return ended

    def cancel_all(self) -> None:
        self._ended.clear()


class RayRunner:
    """Runs each call as a Ray task with its CPUs and GPUs; Ray must already be initialised (by the
    study's :class:`~nas.study.backends.RayBackend`, which also names a bad address before the study opens)."""

    def __init__(self) -> None:
        self._pending: dict[Any, Any] = {}  # object ref -> key
        self._remote: Any = None

    def capacity(self, cpus: float, gpus: float) -> int:
        import ray

        available = ray.cluster_resources()
        slots = int(available.get("CPU", 1) // max(cpus, 1e-9))
        if gpus > 0:
            slots = min(slots, int(available.get("GPU", 0) // gpus))
        return max(1, slots)

    def submit(self, key: Any, function: Callable[[Any], Any], argument: Any, *, cpus: float, gpus: float) -> None:
        import ray

        if self._remote is None:  # one remote function for every callable (a partial or a closure is no function)
            self._remote = ray.remote(_call)
        options = {"num_cpus": cpus, "num_gpus": gpus, "max_retries": 0}
        self._pending[self._remote.options(**options).remote(function, argument)] = key

    def collect(self, timeout: float) -> list[Ended]:
        if not self._pending:
            return []
        import ray

        ready, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=timeout)
        ended: list[Ended] = []
        for reference in ready:
            key = self._pending.pop(reference)
            try:
                ended.append((key, ray.get(reference), None))
            except ray.exceptions.RayTaskError as error:  # the function raised: its cause is the reason
                cause = error.cause if getattr(error, "cause", None) is not None else error
                ended.append((key, None, describe_exception(cause)))
            except ray.exceptions.RayError as error:  # a dead worker or node, a lost object
                ended.append((key, None, describe_exception(error, 300)))
        return ended

    def cancel_all(self) -> None:
        import ray

        for reference in list(self._pending):
            ray.cancel(reference, force=True)
        self._pending.clear()


def _call(function: Callable[[Any], Any], argument: Any) -> Any:
    """What a Ray task runs: ``function(argument)`` (the callable travels with the task, pickled by value
    when it is a closure)."""
    return function(argument)
