"""Execute a ContractionPlan on real tensors.

Time-domain and weight-only steps run under plain autograd: a signal times a weight as one real
``bmm`` on the signal's memory where :func:`.projection.lower_time_domain` applies, anything else
as ``torch.einsum``. The basis kernel enters in factored form (:mod:`.kernel`): its first
contraction with a weight, or its materialisation where the plan transforms it, runs from the
poles without building the ``poles x L`` kernel. The steps from the forward FFTs to the inverse FFT run inside
:class:`SpectralSegment`, whose backward saves only what it needs. The executor follows the plan's
step list verbatim, so the plan the cost model reads is the computation that runs. An
:class:`~centaurus.policy.ExecutionPolicy` sets how some steps run (FFT length, form of the spectrum
products, custom or plain autograd); every policy computes the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

import torch

from centaurus.modes import TIME
from centaurus.planning._plan import ContractionPlan
from centaurus.planning.kernel import contract_kernel
from centaurus.planning.projection import lower_time_domain, project_real
from centaurus.planning.spectral import SpectralProgram, spectral_segment
from centaurus.policy import DEFAULT_POLICY, ExecutionPolicy


class KernelPoles(NamedTuple):
    """The basis kernel's source: ``dt Re A``, ``dt Im A`` and ``dt``, each shaped like the pole axes."""

    rate: torch.Tensor
    freq: torch.Tensor
    scale: torch.Tensor


@lru_cache(maxsize=4096)
def _program(plan: ContractionPlan, policy: ExecutionPolicy) -> SpectralProgram:
    return SpectralProgram.from_plan(plan, policy)


def time_domain_product(equation: str, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """A step outside the spectral segment: one real bmm where :func:`lower_time_domain` applies,
    else ``torch.einsum``."""
    lowered = lower_time_domain(equation)
    if lowered is None:
        return torch.einsum(equation, left, right)
    position, lowering = lowered
    weight, signal = (left, right) if position == 0 else (right, left)
    return project_real(lowering, weight, signal)


def run_plan(
    plan: ContractionPlan,
    operands: Mapping[str, torch.Tensor],
    poles: KernelPoles | None = None,
    policy: ExecutionPolicy = DEFAULT_POLICY,
) -> torch.Tensor:
    """Evaluate ``plan`` given its leaf tensors by name (``u`` and the mode's weights) and the kernel's
    ``poles``; or, with ``poles=None``, a materialised kernel ``K`` among the operands (its steps then
    run as plain einsums on it). ``policy`` sets how the steps run (see :mod:`centaurus.policy`)."""
    env: dict[str, torch.Tensor] = dict(operands)
    program = _program(plan, policy)
    plain = policy.autograd == "plain"
    segment_done = False
    for step in plan.steps:
        if step.in_segment:
            if not segment_done:
                weights = tuple(env[name] for name in program.weights)
                env[program.output] = spectral_segment(
                    program, env[program.signal_input], env[program.kernel_input], *weights, plain=plain
                )
                segment_done = True
            continue
        if step.kind == "kernel":
            if poles is not None:
                assert step.kernel is not None
                env[step.output.name] = contract_kernel(step.kernel, *poles, plain=plain)
            continue
        left, right = step.inputs
        if step.kernel is not None and poles is not None:
            weight = env[left if left in env else right]  # the other input is the kernel, never materialised
            result = contract_kernel(step.kernel, *poles, weight, plain=plain)  # axes: step.kernel.output, then time
            env[step.output.name] = result.movedim(-1, step.output.indices.index(TIME))
        else:
            env[step.output.name] = time_domain_product(step.equation, env[left], env[right])
    return env[plan.steps[-1].output.name]
