"""The real work on a worker: train the study's supernet, and estimate architectures on it.

Thin adapters from the strategy's requests to :mod:`nas.supernet` (which owns the supernet, its
training and the estimates). Tasks (and the datasets they load) are made once per worker process,
as for ordinary trials, and so is the supernet read from a checkpoint: Ray reuses workers, so the
estimation tasks after the first skip reading and building it again. The cache is keyed by the
checkpoint's path, size and modification time, so a retrained supernet is never served stale.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from nas.study.weight_sharing._requests import Estimation, SupernetTrained, SupernetTraining
from nas.study.worker import cached_task

_SUPERNET: dict[tuple[str, int, int, str], Any] = {}  # (path, size, mtime, device) -> Supernet: the last one only


def train_supernet_task(request: SupernetTraining) -> SupernetTrained:
    """Train (or continue training) the supernet of ``request.space`` and leave its checkpoint.

    A run whose loss went non-finite raises: nothing can be estimated on that supernet, and the
    driver stops the search with the reason (the checkpoint stays, for a look or a ``resume``).
    """
    from nas.supernet import SandwichSettings, train_supernet

    sandwich = SandwichSettings(
        random_paths=request.sandwich, distill=request.distill, largest_block=request.largest_block
    )
    outcome = train_supernet(
        request.space,
        cached_task(request.task, request.data),
        request.budget,
        replace(request.training, progress=False),
        sandwich=sandwich,
        checkpoint_to=request.checkpoint,
    )
    run = outcome.run
    if run.status != "completed":
        raise RuntimeError(f"supernet training {run.status}: {run.reason}")
    details = {
        "resumed_at": outcome.resumed_at,
        "paths_per_step": outcome.paths_per_step,
        "fingerprint": outcome.supernet.fingerprint(),
        "final_loss": run.curve[-1].train_loss if run.curve else None,
    }
    return SupernetTrained(request.checkpoint, seconds=run.seconds, steps=run.steps, details=details)


def estimate_architectures(request: Estimation) -> list[dict[str, float]]:
    """Each architecture's metrics with the supernet's inherited weights (batch norm recalibrated on
    ``calibration_batches`` training batches, evaluated on the validation split)."""
    from nas.supernet import estimate, load_supernet

    config = replace(request.training, progress=False)
    device = str(config.resolved_device())
    status = os.stat(request.checkpoint)
    key = (request.checkpoint, status.st_size, status.st_mtime_ns, device)
    if key not in _SUPERNET:
        _SUPERNET.clear()
        _SUPERNET[key] = load_supernet(request.checkpoint, device)
    return estimate(
        _SUPERNET[key],
        list(request.archs),
        cached_task(request.task, request.data),
        config,
        calibration_batches=request.calibration_batches,
    )
