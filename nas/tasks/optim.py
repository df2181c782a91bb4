"""AdamW with three parameter groups and a warm-up + cosine schedule driven by budget progress."""

from __future__ import annotations

import math

import torch
from torch import nn

from centaurus import SSMLayer
from nas.tasks.config import TrainingConfig

SSM_DYNAMICS = SSMLayer.DYNAMICS  # per-layer state matrix and step: small rate, no weight decay


def dynamics_parameter_ids(model: nn.Module) -> set[int]:
    """``id`` of every SSM dynamics parameter in ``model``, as each layer lists them
    (:meth:`centaurus.SSMLayer.dynamics_parameters`), not found by name."""
    return {
        id(parameter)
        for module in model.modules()
        if isinstance(module, SSMLayer)
        for parameter in module.dynamics_parameters()
    }


def make_optimizer(model: nn.Module, config: TrainingConfig) -> torch.optim.AdamW:
    """Groups: SSM dynamics (``ssm_lr``, no decay; the parameters each SSM layer lists as its dynamics);
    vectors such as biases and norm scales (no decay); everything else (``lr`` with ``weight_decay``).
    Each group keeps its base rate in ``initial_lr``."""
    dynamics_ids = dynamics_parameter_ids(model)
    dynamics, vectors, matrices = [], [], []
    for parameter in model.parameters():
        if not parameter.requires_grad:
            continue
        if id(parameter) in dynamics_ids:
            dynamics.append(parameter)
        elif parameter.ndim <= 1:
            vectors.append(parameter)
        else:
            matrices.append(parameter)
    groups = [
        {"params": matrices, "lr": config.lr, "weight_decay": config.weight_decay, "name": "weights"},
        {"params": vectors, "lr": config.lr, "weight_decay": 0.0, "name": "vectors"},
        {"params": dynamics, "lr": config.ssm_lr, "weight_decay": 0.0, "name": "ssm_dynamics"},
    ]
    groups = [group for group in groups if group["params"]]
    for group in groups:
        group["initial_lr"] = group["lr"]
    return torch.optim.AdamW(groups)


def schedule_factor(progress: float, warmup_fraction: float) -> float:
    """Linear warm-up over the first ``warmup_fraction`` of the budget, then cosine decay to zero."""
    if warmup_fraction > 0 and progress < warmup_fraction:
        return max(progress / warmup_fraction, 1e-3)
    span = 1.0 - warmup_fraction
    decayed = (progress - warmup_fraction) / span if span > 0 else 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(max(decayed, 0.0), 1.0)))


def apply_schedule(optimizer: torch.optim.Optimizer, progress: float, warmup_fraction: float) -> float:
    """Set every group's rate for this point of the budget; returns the factor applied."""
    factor = schedule_factor(progress, warmup_fraction)
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * factor
    return factor
