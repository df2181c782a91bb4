"""Diagonal complex state matrices, their discretisation, and the basis kernel they induce.

A = -softplus(a_re) + i * a_im, step dt = exp(log_dt), simplified zero-order hold: the pole is
exp(dt * A) and the input weight is scaled by dt. The scaled impulse response of one pole is the
basis kernel K[..., l] = dt * exp(dt Re A l) * cos(dt Im A l) = dt * Re(exp(dt A l)); every mode
mixes these real kernels with real weights, so a real output needs no complex parameters.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from centaurus.planning.execute import KernelPoles
from centaurus.planning.kernel import KernelContraction, contract_kernel

REAL_PART_INIT = -0.5


def initial_poles(pole_shape: tuple[int, ...], blocks: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a_re, a_im)`` initialised to Re A = -0.5 and Im A = pi * n, n counting the last axis.

    With ``blocks > 1`` the last axis is split into that many blocks, each initialised as its own
    0..N/blocks-1 ladder (S5's block-diagonal initialisation).
    """
    states = pole_shape[-1]
    per_block = states // blocks
    ladder = torch.arange(states, dtype=torch.float64) % per_block
    a_im = (math.pi * ladder).expand(pole_shape).clone()
    a_re = torch.full(pole_shape, math.log(math.expm1(-REAL_PART_INIT)), dtype=torch.float64)
    return a_re, a_im


def initial_log_dt(dt_shape: tuple[int, ...], dt_min: float, dt_max: float) -> torch.Tensor:
    """log dt spaced geometrically between ``dt_min`` and ``dt_max`` across the dt axes."""
    count = math.prod(dt_shape)
    if count == 1:
        values = torch.tensor([math.sqrt(dt_min * dt_max)], dtype=torch.float64)
    else:
        values = torch.logspace(math.log10(dt_min), math.log10(dt_max), count, dtype=torch.float64)
    return values.log().reshape(dt_shape)


def step_sizes(log_dt: torch.Tensor, pole_rank: int) -> torch.Tensor:
    """dt broadcast over the pole axes it does not own (trailing singleton dimensions)."""
    dt = log_dt.exp()
    return dt.reshape(dt.shape + (1,) * (pole_rank - dt.dim()))


def continuous_poles(a_re: torch.Tensor, a_im: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary parts of A (the real part kept negative by softplus)."""
    return -F.softplus(a_re), a_im


def kernel_poles(a_re: torch.Tensor, a_im: torch.Tensor, log_dt: torch.Tensor) -> KernelPoles:
    """``(dt Re A, dt Im A, dt)`` per pole, differentiable: what the factored basis kernel is built from."""
    re, im = continuous_poles(a_re, a_im)
    dt = step_sizes(log_dt, a_re.dim())
    return KernelPoles(dt * re, dt * im, dt.expand_as(re))


def basis_kernel(a_re: torch.Tensor, a_im: torch.Tensor, log_dt: torch.Tensor, length: int) -> torch.Tensor:
    """K[..., l] = dt * exp(dt Re A l) * cos(dt Im A l) for l = 0..length-1 (real, differentiable).

    Computed in factored form (``centaurus.planning.kernel``); autograd keeps only pole-sized tensors.
    """
    poles = "".join(chr(ord("a") + axis) for axis in range(a_re.dim()))
    return contract_kernel(KernelContraction("", poles, poles, length), *kernel_poles(a_re, a_im, log_dt))


def discrete_log_poles(
    a_re: torch.Tensor, a_im: torch.Tensor, log_dt: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(dt A, dt)``: the log of each discrete pole exp(dt A), and dt broadcast to the pole shape."""
    re, im = continuous_poles(a_re, a_im)
    dt = step_sizes(log_dt, a_re.dim())
    return torch.complex(dt * re, dt * im), dt.expand_as(re)
