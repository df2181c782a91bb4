"""A plan evaluated for inference, with everything that does not depend on the signal computed once.

Streaming runs one layer's plan on every chunk with the same weights and poles. Every step whose
inputs do not depend on the signal ``u`` gives the same tensor for every chunk of a given length:
the kernel's generation and its contractions with weights, the kernel branch's forward FFT, products
of weights with the kernel's spectrum. :class:`FrozenPlan` computes those once, when it is built,
and a call runs only the steps on the signal's path, with the operations of training's forward
(as plain tensor code: inference needs no custom backward). Same plan, same order, same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import torch

from centaurus.planning._plan import ContractionPlan, PlanStep
from centaurus.planning.execute import KernelPoles, time_domain_product
from centaurus.planning.kernel import contract_kernel
from centaurus.planning.projection import RealProjection, lower_time_domain
from centaurus.planning.spectral import compile_step, run_spectral_step

_Run = Callable[[dict[str, torch.Tensor]], torch.Tensor]


# What one more operation on the per-call path costs beyond its FLOPs (dispatch, allocation), in
# FLOPs: about 5 us on one CPU thread at ~4 GFLOP/s. Small chunks are dominated by it.
_FLOPS_PER_CALL_STEP = 20_000


def _signal_steps(plan: ContractionPlan) -> list[PlanStep]:
    """The steps that depend on the signal ``u`` (the rest are the same for every call)."""
    known = {spec.name for spec in plan.inputs} - {"u"}
    steps = []
    for step in plan.steps:
        if all(name in known for name in step.inputs):
            known.add(step.output.name)
        else:
            steps.append(step)
    return steps


def per_call_cost(plan: ContractionPlan) -> int:
    """Forward FLOPs a :class:`FrozenPlan` of ``plan`` spends per call, plus a fixed cost per operation."""
    return sum(step.forward_flops + _FLOPS_PER_CALL_STEP for step in _signal_steps(plan))


def cheapest_frozen_plan(candidates: Iterable[ContractionPlan]) -> ContractionPlan:
    """The candidate a :class:`FrozenPlan` runs fastest: least work on the signal's path (the kernel
    branch is free once frozen, so this is often not the plan training picks)."""
    return min(candidates, key=per_call_cost)


def _step_runner(
    step: PlanStep,
    fft_length: int,
    length: int,
    poles: KernelPoles,
    constants: Mapping[str, torch.Tensor] | None = None,
) -> _Run:
    """What one step computes, as a function of the tensors computed so far (by name); work that
    depends only on ``constants`` (tensors fixed for every call) is done here, once."""
    if step.kind == "rfft":
        (source,) = step.inputs
        return lambda env: torch.fft.rfft(env[source], n=fft_length)
    if step.kind == "irfft":
        (source,) = step.inputs
        return lambda env: torch.fft.irfft(env[source], n=fft_length)[..., :length]
    if step.kind == "kernel":
        assert step.kernel is not None
        spec = step.kernel
        return lambda env: contract_kernel(spec, *poles)
    left, right = step.inputs
    if step.kernel is not None:
        spec, axis = step.kernel, step.output.indices.index("l")
        weight = right if left == "K" else left
        return lambda env: contract_kernel(spec, *poles, env[weight]).movedim(-1, axis)
    if step.in_segment:
        compiled = compile_step(step)
        return lambda env: run_spectral_step(compiled, env)
    equation = step.equation
    lowered = lower_time_domain(equation)
    if lowered is not None and constants is not None:
        position, lowering = lowered
        weight, signal = (left, right) if position == 0 else (right, left)
        if weight in constants:  # the weight's matrix is built once
            projection = RealProjection(lowering, constants[weight])
            return lambda env: projection(env[signal])
    return lambda env: time_domain_product(equation, env[left], env[right])


class FrozenPlan:
    """``plan`` for inputs ``u`` with fixed weights (``operands``, by name, without ``u``) and poles.

    Built under ``torch.no_grad()``; rebuild it after the parameters change.
    """

    def __init__(self, plan: ContractionPlan, operands: Mapping[str, torch.Tensor], poles: KernelPoles) -> None:
        self.plan = plan
        constants: dict[str, torch.Tensor] = dict(operands)
        per_call = {id(step) for step in _signal_steps(plan)}
        self._calls: list[tuple[str, _Run]] = []
        with torch.no_grad():
            for step in plan.steps:
                if id(step) in per_call:
                    run = _step_runner(step, plan.fft_length, plan.length, poles, constants)
                    self._calls.append((step.output.name, run))
                else:
                    constants[step.output.name] = _step_runner(step, plan.fft_length, plan.length, poles)(constants)
        self._constants = constants
        self._output = plan.steps[-1].output.name

    @property
    def per_call_steps(self) -> int:
        """How many of the plan's steps run on every call (the others were computed once)."""
        return len(self._calls)

    @property
    def final_projection(self) -> tuple[str, str] | None:
        """``(equation, weight name)`` when the plan ends by projecting the signal's path with a weight
        in time (e.g. dws ``bcl,dc->bdl``): a caller may then add to that step's input (see
        :meth:`__call__`) instead of projecting a second tensor of its own."""
        last = self.plan.steps[-1]
        if last.kind != "contract" or last.in_segment or last.kernel is not None:
            return None
        weights = [name for name in last.inputs if name in self._constants]
        return (last.equation, weights[0]) if len(weights) == 1 else None

    def __call__(self, u: torch.Tensor, before_final: torch.Tensor | None = None) -> torch.Tensor:
        """The plan's output for ``u``; with ``before_final``, that tensor is added to the input of the
        final projection first (requires :attr:`final_projection`)."""
        env = dict(self._constants)
        env["u"] = u
        calls = self._calls
        if before_final is not None:
            calls = calls[:-1]
        for name, run in calls:
            env[name] = run(env)
        if before_final is None:
            return env[self._output]
        name, run = self._calls[-1]
        last = self.plan.steps[-1]
        signal = next(input_name for input_name in last.inputs if input_name not in self._constants)
        env[signal] = env[signal] + before_final
        return run(env)
