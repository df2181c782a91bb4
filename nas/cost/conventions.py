"""What ``torch.utils.flop_counter.FlopCounterMode`` should report for a scored architecture.

FlopCounterMode counts only matmul-like ATen ops (mm, bmm, addmm, convolution and their backward),
2 FLOPs per multiply-add, and counts a complex bmm like a real one. A time-domain signal times a
weight runs as bmm where ``centaurus.planning.projection.lower_time_domain`` applies; otherwise
``torch.einsum`` lowers a pairwise product to bmm only when some index is summed; a pure
elementwise product becomes ``mul`` and is invisible to the counter (and so is its autograd
backward). Inside the spectral segment, products of two spectra run as bmm only in their ``bmm``
form (see ``centaurus.planning.spectral.spectrum_product_form``; the broadcast and accumulate forms
are ``mul``/``addcmul`` and unseen), and a real weight times a spectrum runs as ``matmul`` where
``centaurus.planning.projection`` lowers it (always seen). This module maps a :class:`CostReport`
to that convention (of a log-mel frontend, forward only, the counter sees the mel filterbank matmul
but not the FFTs), so tests can compare prediction and measurement exactly, while the report itself
keeps the true cost (8 FLOPs per complex multiply-add).
"""

from __future__ import annotations

from collections.abc import Mapping

from centaurus.planning import ContractionPlan, KernelContraction, PlanStep
from centaurus.planning.projection import lower, lower_time_domain
from centaurus.planning.spectral import spectrum_product_form
from nas.cost.model import CostReport

_REAL_VIEW = "z"


def _contracts(equation: str, sizes: Mapping[str, int]) -> bool:
    """Whether torch.einsum runs this pair as a bmm: some summed index longer than 1 (size-1
    indices are squeezed away, leaving an elementwise ``mul``)."""
    inputs, output = equation.split("->")
    return any(index not in output and sizes.get(index, 2) > 1 for index in inputs.replace(",", ""))


def _kernel_step_flops(kernel: KernelContraction, sizes: Mapping[str, int]) -> int:
    """The factored kernel's matrix products (centaurus.planning.kernel): forward and two in backward,
    each a bmm unless every index it sums has size 1 (the weighting and weight gradients are
    broadcast products, unseen)."""
    blocks, block = kernel.blocks
    extended = {**sizes, "Z": 2, "Q": blocks, "R": block}
    run = (kernel.product, kernel.mixed_gradient, kernel.offset_gradient)
    return sum(2 * kernel.macs(dict(sizes)) for equation in run if _contracts(equation, extended))


def _visible_step_flops(step: PlanStep, recomputed: bool, sizes: Mapping[str, int]) -> int:
    if step.kernel is not None:
        return _kernel_step_flops(step.kernel, sizes)
    left, right = step.inputs
    inputs, output = step.equation.split("->")
    a, b = inputs.split(",")
    if not step.in_segment:
        # Plain autograd: a bmm forward has two bmm gradients; a mul forward has mul/sum gradients.
        # A signal times a weight always runs as bmm (centaurus.planning.projection), whatever the sizes.
        lowered = lower_time_domain(step.equation) is not None
        return 3 * 2 * step.macs if lowered or _contracts(step.equation, sizes) else 0
    spectra = int(left.endswith("^")) + int(right.endswith("^"))
    if spectra == 2:
        # Products in their bmm form are seen; the broadcast and accumulate forms are not.
        run = [step.equation, f"{output},{b}->{a}", f"{output},{a}->{b}"] + ([step.equation] if recomputed else [])
        return sum(2 * step.macs for equation in run if spectrum_product_form(equation, sizes) == "bmm")
    weight, spectrum = (a, b) if not left.endswith("^") else (b, a)
    if lower(weight, spectrum, output) is not None:
        # One matmul on the real view each for forward, both gradients and the recomputation,
        # whatever the sizes (matmul never squeezes a size-1 axis into a mul).
        return (4 if recomputed else 3) * 4 * step.macs
    z = _REAL_VIEW  # otherwise einsum on the real view (extra index z of size 2)
    run = [
        f"{weight},{spectrum}{z}->{output}{z}",
        f"{output}{z},{weight}->{spectrum}{z}",
        f"{output}{z},{spectrum}{z}->{weight}",
    ] + ([f"{weight},{spectrum}{z}->{output}{z}"] if recomputed else [])
    return sum(4 * step.macs for equation in run if _contracts(equation, sizes))


def plan_flop_counter_flops(plan: ContractionPlan) -> int:
    """Matmul FLOPs FlopCounterMode sees during one forward + backward of ``plan``."""
    return sum(
        _visible_step_flops(step, step.recompute_flops > 0, plan.sizes)
        for step in plan.steps
        if step.kind in ("contract", "kernel")
    )


def flop_counter_flops(report: CostReport) -> int:
    """Matmul FLOPs FlopCounterMode should report for a training step of the scored network."""
    total = 0
    for row in report.layers:
        if row.plan is not None:
            total += plan_flop_counter_flops(row.plan)
        elif row.kind in ("frontend", "conv1x1", "downsample", "upsample", "linear"):
            total += row.contraction_flops
    return total
