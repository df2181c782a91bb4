"""What ``torch.utils.flop_counter.FlopCounterMode`` should report for a scored architecture.

FlopCounterMode counts only matmul-like ATen ops (mm, bmm, addmm, convolution and their
backward), 2 FLOPs per multiply-add, and counts a complex bmm like a real one. ``torch.einsum``
lowers a pairwise product to bmm only when some index is summed; a pure elementwise product
becomes ``mul`` and is invisible to the counter (and so is its autograd backward). This module
maps a :class:`CostReport` to that convention, so tests can compare prediction and measurement
exactly, while the report itself keeps the true cost (8 FLOPs per complex multiply-add).
"""

from __future__ import annotations

from collections.abc import Mapping

from centaurus.planning import ContractionPlan, PlanStep
from nas.cost.model import CostReport

_REAL_VIEW = "z"


def _contracts(equation: str, sizes: Mapping[str, int]) -> bool:
    """Whether torch.einsum runs this pair as a bmm: some summed index longer than 1 (size-1
    indices are squeezed away, leaving an elementwise ``mul``)."""
    inputs, output = equation.split("->")
    return any(index not in output and sizes.get(index, 2) > 1 for index in inputs.replace(",", ""))


def _visible_step_flops(step: PlanStep, recomputed: bool, sizes: Mapping[str, int]) -> int:
    left, right = step.inputs
    inputs, output = step.equation.split("->")
    a, b = inputs.split(",")
    if not step.in_segment:
        # Plain autograd: a bmm forward has two bmm gradients; a mul forward has mul/sum gradients.
        return 3 * 2 * step.macs if _contracts(step.equation, sizes) else 0
    spectra = int(left.endswith("^")) + int(right.endswith("^"))
    if spectra == 2:
        equations = [step.equation, f"{output},{b}->{a}", f"{output},{a}->{b}"]
        per_mac = 2
    else:  # a real weight times a spectrum, run on the real view (extra index z of size 2)
        weight, spectrum = (a, b) if not left.endswith("^") else (b, a)
        z = _REAL_VIEW
        equations = [
            f"{weight},{spectrum}{z}->{output}{z}",
            f"{output}{z},{weight}->{spectrum}{z}",
            f"{output}{z},{spectrum}{z}->{weight}",
        ]
        per_mac = 4
    if recomputed:
        equations.append(equations[0])
    return sum(per_mac * step.macs for equation in equations if _contracts(equation, sizes))


def plan_flop_counter_flops(plan: ContractionPlan) -> int:
    """Matmul FLOPs FlopCounterMode sees during one forward + backward of ``plan``."""
    return sum(
        _visible_step_flops(step, step.recompute_flops > 0, plan.sizes)
        for step in plan.steps
        if step.kind == "contract"
    )


def flop_counter_flops(report: CostReport) -> int:
    """Matmul FLOPs FlopCounterMode should report for a training step of the scored network."""
    total = 0
    for row in report.layers:
        if row.plan is not None:
            total += plan_flop_counter_flops(row.plan)
        elif row.kind in ("conv1x1", "downsample", "upsample", "linear"):
            total += row.contraction_flops
    return total
