"""Host memory of training trials: what a trial reserves, what a node can hold, and what an OOM says.

Ray schedules its ``memory`` resource like CPUs: a task submitted with ``memory=R`` starts only on a
node whose unreserved memory is at least ``R``. So when every CPU trial reserves its predicted peak,
trials whose peaks together exceed a node's memory are never placed there at the same time, however
many CPUs the node has. A trial reserves the cost model's peak training memory plus what a worker
process holds before training (Python, torch, Ray and the task code: ``WORKER_BASE_BYTES``).

A trial that runs out of memory anyway (the prediction was low, or something else took the memory)
is killed by Ray's memory monitor, which Ray reports as ``OutOfMemoryError``; it is retried once
reserving the whole node (so it runs alone there), and if it was already alone it fails at once
with the numbers, never retried into the same placement.
"""

from __future__ import annotations

import os

GIB = 2**30

WORKER_BASE_BYTES = 640 * 2**20
"""Resident memory of a trial worker before its first batch (measured: 631 MiB with torch, Ray and
the tasks imported, CPython 3.11, torch 2.14 on Linux)."""

LOCAL_RAY_MEMORY_FRACTION = 0.9
"""Share of this machine's RAM that a local Ray instance may schedule for trials. Ray's own default
(about 70%, after setting aside its object store) would refuse trials that fit: trial payloads
and results are small, so the object store holds almost nothing."""


def machine_memory_bytes() -> int | None:
    """This machine's physical RAM, or ``None`` where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def local_ray_memory_bytes() -> int | None:
    """The ``memory`` resource to start a local Ray instance with (``None``: Ray's default)."""
    total = machine_memory_bytes()
    return None if total is None else int(total * LOCAL_RAY_MEMORY_FRACTION)


def trial_reservation_bytes(peak_bytes: float) -> int:
    """What a CPU trial reserves: its predicted peak training memory and a worker's base."""
    return int(peak_bytes) + WORKER_BASE_BYTES


def largest_node_memory_bytes() -> int | None:
    """The most memory Ray can give one trial: the largest live node's ``memory`` resource when Ray is
    connected (what its scheduler counts), else this machine's RAM."""
    try:
        import ray

        if ray.is_initialized():
            sizes = [node["Resources"].get("memory", 0) for node in ray.nodes() if node.get("Alive")]
            if sizes and max(sizes) > 0:
                return int(max(sizes))
    except Exception:  # Ray's node table is best effort; fall back to this machine
        pass
    return machine_memory_bytes()


def gib(nbytes: float) -> str:
    return f"{nbytes / GIB:.1f} GiB"


def does_not_fit(peak_bytes: float, node_bytes: int, *, batch: int) -> str:
    """Why a trial predicted to need more than a node can give it is not trained."""
    need = trial_reservation_bytes(peak_bytes)
    return (
        f"train_peak_bytes = {gib(peak_bytes)} (predicted at batch {batch}) + {gib(WORKER_BASE_BYTES)} for the"
        f" worker exceeds this machine's memory ({gib(node_bytes)} schedulable on the largest node;"
        f" need {gib(need)}): it would be killed, so it is not trained"
    )


def after_out_of_memory(peak_bytes: float, reserved_bytes: int | None) -> tuple[str, int | None]:
    """A trial killed for memory: the reason it is given, and what its retry reserves (the whole largest
    node, so it runs alone there), or ``None`` when it had the node to itself already (not retried)."""
    node = largest_node_memory_bytes()
    reason = out_of_memory(peak_bytes, reserved_bytes or 0, node)
    if node is None or reserved_bytes is None or reserved_bytes >= node:
        return reason, None
    return reason, node


def out_of_memory(peak_bytes: float, reserved_bytes: int, node_bytes: int | None) -> str:
    """The reason a trial killed for memory is given: what was predicted and what the node had."""
    node = "unknown" if node_bytes is None else gib(node_bytes)
    return (
        f"out of memory (predicted {gib(peak_bytes)} peak, reserved {gib(reserved_bytes)}, node {node}):"
        " killed by Ray's memory monitor"
    )
