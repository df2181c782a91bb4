"""Trials as Ray tasks, on a local Ray instance or a cluster: the default backend.

Each run is one Ray task with the CPUs and GPUs the config gives a trial (and, for CPU trials, the
host memory the request reserves). ``ray.wait`` collects them. What Ray reports becomes a
:class:`~nas.study.requests.TrialResult`: an exception inside the task is the run's ``error``; a
worker or node that died, or an object that was lost, is ``lost`` (retried by the driver); Ray's
memory monitor killing the task is ``lost`` with ``out_of_memory`` set.
"""

from __future__ import annotations

import os
from typing import Any

from nas import console
from nas.study import memory
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.requests import TrialFunction, TrialRequest, TrialResult, describe_exception
from nas.study.worker import run_trial


class RayBackend:
    """Runs requests as Ray tasks; connects to Ray when created (a bad address fails before any study is opened)."""

    def __init__(self, config: StudyConfig, trial_function: TrialFunction = run_trial) -> None:
        self._config = config
        self._trial_function = trial_function
        self._remote: Any = None
        self._pending: dict[Any, TrialRequest] = {}  # Ray object ref -> its request
        self._connect()

    def _connect(self) -> None:
        """Join ``ray.address`` (else ``$RAY_ADDRESS``, else start a local instance) and make the remote function."""
        import ray

        if not ray.is_initialized():
            address = self._config.ray_address or os.environ.get("RAY_ADDRESS")
            options: dict[str, Any] = {  # Ray's own log lines and the workers' output only with --verbose
                "namespace": "centaurus-nas",
                "log_to_driver": console.verbose(),
                "logging_level": console.ray_logging_level(),
            }
            try:
                if address:
                    ray.init(address=address, **options)
                else:
                    # "local": always a new instance of our own, never another search's Ray found on this machine
                    local_memory = memory.local_ray_memory_bytes()  # what its scheduler may reserve for trials
                    extra: dict[str, Any] = {} if local_memory is None else {"_memory": local_memory}
                    ray.init(address="local", include_dashboard=False, **options, **extra)
            except ray.exceptions.AuthenticationError as error:
                raise StudyConfigError(
                    f"ray.address: got {address!r}, a cluster that requires an authentication token this process"
                    " does not have; allowed: the cluster's token in $RAY_AUTH_TOKEN (or a file named by"
                    " $RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token) with RAY_AUTH_MODE=token"
                ) from error
            except (ConnectionError, RuntimeError, ValueError) as error:
                headline = (str(error).strip().splitlines() or [""])[0][:300]
                raise StudyConfigError(
                    f"ray.address: got {address or 'local'!r}, which Ray cannot join ({type(error).__name__}:"
                    f" {headline}); allowed: 'auto', 'HOST:PORT' or 'ray://HOST:PORT' of a running cluster"
                ) from error
        self._remote = ray.remote(self._trial_function)

    def capacity(self) -> int:
        resources = self._config.resources
        if resources.max_concurrent is not None:
            return resources.max_concurrent
        import ray

        available = ray.cluster_resources()
        slots = int(available.get("CPU", 1) // resources.cpus)
        if resources.gpus > 0:
            slots = min(slots, int(available.get("GPU", 0) // resources.gpus))
        return max(1, slots)

    def start(self, request: TrialRequest) -> None:
        resources = self._config.resources
        options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus, "max_retries": 0}
        if request.memory_bytes is not None:  # CPU trials train in host memory: Ray places them by it
            options["memory"] = request.memory_bytes
        reference = self._remote.options(**options).remote(request)
        self._pending[reference] = request

    def collect(self, timeout: float) -> list[TrialResult]:
        if not self._pending:
            return []
        import ray

        ready, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=timeout)
        results = []
        for reference in ready:
            request = self._pending.pop(reference)
            try:
                results.append(TrialResult(request, task=ray.get(reference)))
            except Exception as error:
                results.append(describe_ray_error(request, error))
        return results

    def cancel(self, request: TrialRequest) -> None:
        import ray

        for reference, pending in list(self._pending.items()):
            if pending.key == request.key:
                del self._pending[reference]
                ray.cancel(reference, force=True)


def describe_ray_error(request: TrialRequest, error: Exception) -> TrialResult:
    """What ``ray.get`` raising ``error`` means for the run of ``request``."""
    import ray

    if isinstance(error, ray.exceptions.RayTaskError):  # the trial function raised: its cause is the reason
        cause = error.cause if getattr(error, "cause", None) is not None else error
        return TrialResult(request, error=describe_exception(cause))
    if isinstance(error, ray.exceptions.OutOfMemoryError):
        return TrialResult(request, lost=describe_exception(error, 300), out_of_memory=True)
    if isinstance(error, ray.exceptions.RayError):  # a worker or node died, an object was lost
        return TrialResult(request, lost=describe_exception(error, 300))
    raise error
