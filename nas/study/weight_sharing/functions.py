"""The real work on a worker: train the study's supernet, and estimate architectures on it.

Thin adapters from the strategy's requests to :mod:`nas.supernet` (which owns the supernet, its
training and the estimates); tasks are made once per worker process, as for ordinary trials.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from nas.study.weight_sharing.requests import Estimation, SupernetTrained, SupernetTraining


def _threads(request: SupernetTraining | Estimation) -> None:
    if request.training.threads is not None:
        torch.set_num_threads(request.training.threads)


def train_supernet_task(request: SupernetTraining) -> SupernetTrained:
    """Train (or continue training) the supernet of ``request.space`` and leave its checkpoint."""
    from nas.supernet import train_supernet

    _threads(request)
    started = time.perf_counter()
    outcome = train_supernet(
        request.space,
        request.task,
        request.data,
        request.budget,
        replace(request.training, progress=False),
        checkpoint=request.checkpoint,
        sandwich=request.sandwich,
        distill=request.distill,
    )
    steps = int(getattr(outcome, "steps", 0))
    details = {key: value for key, value in vars(outcome).items() if isinstance(value, (int, float, str, bool))}
    return SupernetTrained(request.checkpoint, time.perf_counter() - started, steps, details)


def estimate_architectures(request: Estimation) -> list[dict[str, float]]:
    """Each architecture's metrics with the supernet's inherited weights (batch norm recalibrated)."""
    from nas.supernet import estimate

    _threads(request)
    return estimate(
        request.checkpoint,
        list(request.archs),
        request.data,
        calibration_batches=request.calibration_batches,
        training=request.training,
    )
