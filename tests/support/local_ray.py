"""A local Ray instance for tests that search on Ray, shared with any another test left running."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ray


@contextmanager
def local_ray(namespace: str, num_cpus: int = 1) -> Iterator[None]:
    """A local Ray for the block: the one another test may have left up (used, and left up), else a new one
    shut down at the end. Starting a second instance in one process fails, and shutting down someone
    else's would pull it from under them."""
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, namespace=namespace)
    try:
        yield
    finally:
        if started:
            ray.shutdown()
