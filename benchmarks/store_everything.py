"""The plain alternative our layer is measured against: an SSM layer written the obvious way.

What a user would write without this project's executor: the basis kernel built in the time domain
with plain autograd (``dt * exp(dt Re A l) * cos(dt Im A l)``), both convolution operands zero-padded
to 2L and transformed with ``torch.fft.rfft``, every product in frequency a ``torch.einsum`` (real
weights promoted to complex, as torch does), the inverse FFT cut to the causal half, and autograd
keeping every intermediate it wants. Nothing is recomputed in backward.

It is given a good contraction order: the same tree and FFT placement as the plan our planner would
pick for a store-everything executor (time-domain kernel, spectra stored), so the comparison is of
execution, not of planning. Its parameters are the layer's own, so both compute the same function.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from centaurus import SSMLayer
from centaurus.planning import DEFAULT_COSTS, ContractionPlan, plan_score

__all__ = ["plain_forward", "plain_kernel", "plain_plan"]


def plain_kernel(layer: SSMLayer, length: int) -> torch.Tensor:
    """K[..., l] = dt * exp(dt Re A l) * cos(dt Im A l), with plain autograd (stores its factors)."""
    re = -F.softplus(layer.a_re)
    dt = layer.log_dt.exp()
    dt = dt.reshape(dt.shape + (1,) * (layer.a_re.dim() - dt.dim()))
    time = torch.arange(length, dtype=re.dtype, device=re.device)
    rate = (dt * re).unsqueeze(-1)
    freq = (dt * layer.a_im).unsqueeze(-1)
    return dt.unsqueeze(-1) * torch.exp(rate * time) * torch.cos(freq * time)


def plain_plan(layer: SSMLayer, batch: int, length: int) -> ContractionPlan:
    """The plan whose order the plain layer follows: the planner's pick for stored spectra and a
    kernel built in the time domain (the only kernel source plain code has)."""
    candidates = [plan for plan in layer.candidate_plans(batch, length) if plan.spectra == "store"]
    cost = DEFAULT_COSTS.get(layer.a_re.device.type, DEFAULT_COSTS["cpu"])
    return min(candidates, key=lambda plan: plan_score(plan, cost))


def _contract(equation: str, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    if left.is_complex() != right.is_complex():
        dtype = left.dtype if left.is_complex() else right.dtype
        left, right = left.to(dtype), right.to(dtype)
    return torch.einsum(equation, left, right)


def plain_forward(layer: SSMLayer, u: torch.Tensor, plan: ContractionPlan | None = None) -> torch.Tensor:
    """The layer's output computed plainly, step by step along ``plan`` (default :func:`plain_plan`)."""
    batch, _, length = u.shape
    plan = plan or plain_plan(layer, batch, length)
    env: dict[str, torch.Tensor] = dict(layer.operands(u, plain_kernel(layer, length)))
    fft_length = 2 * length
    transforms: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "rfft": lambda x: torch.fft.rfft(x, n=fft_length),
        "irfft": lambda x: torch.fft.irfft(x, n=fft_length)[..., :length],
    }
    for step in plan.steps:
        if step.kind == "kernel":
            continue  # K is the plain time-domain kernel above
        if step.kind == "contract":
            left, right = step.inputs
            env[step.output.name] = _contract(step.equation, env[left], env[right])
        else:
            env[step.output.name] = transforms[step.kind](env[step.inputs[0]])
    return env[plan.steps[-1].output.name].reshape(batch, layer.out_channels, length)
