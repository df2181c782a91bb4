"""Batch-norm statistics for a sub-network of a supernet.

The running statistics a supernet keeps were averaged over many paths, each of which saw other
inputs at each layer, so they fit no path in particular; a path evaluated with them is mis-scaled and
its estimate meaningless. The usual remedy (Once-for-All, BigNAS) is to re-estimate them for the
path alone from a few training batches before evaluating it.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def calibrate_batchnorm(module: nn.Module, batches: Iterable[object]) -> int:
    """Reset every batch norm of ``module`` and recompute its statistics from ``batches``; returns the count used.

    The statistics are a cumulative (equal-weight) average over the batches (``momentum=None``), not an
    exponential one, so that a few batches give the estimate of all of them rather than mostly the last.
    Each batch is a tensor of inputs or a tuple/list whose first element is (as the task loaders give).
    No gradients are taken; the module's training flags and the norms' momenta are restored afterwards.
    A module without batch norms is left untouched (0 is returned without running a batch).
    """
    norms = [m for m in module.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return 0
    modes = {m: m.training for m in module.modules()}
    momenta = {norm: norm.momentum for norm in norms}
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    device = next(iter(module.buffers())).device
    used = 0
    try:
        module.train()
        with torch.no_grad():
            for batch in batches:
                if batch is None:
                    continue
                inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
                module(inputs.to(device))  # type: ignore[union-attr]
                used += 1
    finally:
        for norm, momentum in momenta.items():
            norm.momentum = momentum
        for child, training in modes.items():
            child.train(training)
    return used
