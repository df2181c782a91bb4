"""Execute a ContractionPlan on real tensors.

Time-domain and weight-only steps are ordinary ``torch.einsum`` calls under autograd; the steps
from the forward FFTs to the inverse FFT run inside :class:`SpectralSegment`, whose backward saves
only what it needs. The executor follows the plan's step list verbatim, so the plan the cost model
reads is the computation that runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import torch

from centaurus.planning.plan import ContractionPlan
from centaurus.planning.spectral import SpectralProgram, SpectralSegment


@lru_cache(maxsize=4096)
def _program(plan: ContractionPlan) -> SpectralProgram:
    return SpectralProgram.from_plan(plan)


def run_plan(plan: ContractionPlan, operands: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Evaluate ``plan`` given its leaf tensors by name (``u``, ``K`` and the mode's weights)."""
    env: dict[str, torch.Tensor] = dict(operands)
    program = _program(plan)
    segment_done = False
    for step in plan.steps:
        if step.in_segment:
            if not segment_done:
                weights = tuple(env[name] for name in program.weights)
                env[program.output] = SpectralSegment.apply(
                    program, env[program.signal_input], env[program.kernel_input], *weights
                )
                segment_done = True
            continue
        left, right = step.inputs
        env[step.output.name] = torch.einsum(step.equation, env[left], env[right])
    return env[plan.steps[-1].output.name]
