"""Memory layouts of a network's activations, and when an SSM layer saves its own copy of its input.

The cost model counts each saved storage once, whoever saves it, so it must know when two ops
save the same storage. A 1x1 skip projection saves the block input itself; the SSM layer beside it
saves "u" too, but when its plan contracts ``u`` with a weight in the time domain, the tensor saved
is not always ``u``'s storage. ``torch.einsum`` lowers a pairwise contraction to ``bmm``: each
operand is permuted to (shared batch axes, own free axes, contracted axes), those three groups are
merged by ``reshape``, and ``bmm`` saves the reshaped operands. The reshape is a view of ``u``
only when the axes of each group lie next to each other, in that order, in ``u``'s memory;
otherwise it is a copy, a storage of the layer's own. For ``bcl,nc->bnl`` on a contiguous ``u``
the free axes ``b`` and ``l`` are not adjacent (``c`` lies between), so from batch 2 on ``u`` is
copied; at batch 1, or on a time-major ``u`` (what a channel layer norm returns), it is a view.

So this module follows the memory order of every activation through the layout (all are dense):
convolutions, linear layers and batch norm return contiguous ``(b, c, l)`` tensors, the channel
layer norm a time-major one (it normalises the transposed tensor and transposes back), element-wise
activations keep their input's layout and a sum takes its first operand's, and an SSM layer's
output is laid out as its last einsum's ``bmm`` result (or contiguously after the inverse FFT).
A time-domain signal times a weight that the executor runs as one bmm on the signal's memory
(``centaurus.planning.projection.lower_time_domain``) saves the signal merged as (outer, contracted,
inner) and writes (outer, own, inner). These rules were read off torch 2.14 on CPU and are checked against it in
``tests/nas/cost/test_cost_model.py``.

A layout is the memory order of a tensor's axes, outermost first: ``"bcl"`` for contiguous
``(batch, channels, time)``, ``"blc"`` for time-major. Axes of size 1 never matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from centaurus.networks.layout import LayerOp
from centaurus.planning import ContractionPlan
from centaurus.planning.projection import lower_time_domain

CONTIGUOUS = "bcl"
TIME_MAJOR = "blc"
_BATCH_AND_TIME = "bl"


@dataclass(frozen=True)
class EinsumLowering:
    """How ``torch.einsum`` runs a pairwise contraction (``sumproduct_pair``): as one ``bmm``.

    Axes are taken in torch's label order (the output's axes in output order, then the contracted
    ones by letter) and sorted into groups: ``shared`` (in both operands and the output),
    ``own_left`` / ``own_right`` (in one operand and the output; an axis of size 1 in both counts
    as the right one's) and ``summed`` (contracted). Each operand is permuted to (shared, own,
    summed) and each group merged into one axis by ``reshape``. ``summed_alone`` are axes
    contracted within one operand before the product (that operand is then reduced, and the
    reduction is what the product saves). With nothing ``summed``, torch multiplies element-wise.

    ``output`` is the memory order of the result: (shared, own left, own right), except that torch
    swaps the operands when every own-right axis precedes every own-left axis in label order, so
    that ``bmm`` writes (shared, own right, own left); an element-wise product is laid out in
    output order.
    """

    shared: str
    own_left: str
    own_right: str
    summed: str
    summed_alone: str
    output: str

    def groups(self, position: int) -> tuple[str, str, str]:
        """The axis groups that operand ``position`` (0: left, 1: right) is merged into."""
        return (self.shared, self.own_left if position == 0 else self.own_right, self.summed)


def einsum_lowering(equation: str, sizes: Mapping[str, int]) -> EinsumLowering:
    """What ``torch.einsum(equation, a, b)`` runs, at these axis sizes."""
    inputs, output = equation.split("->")
    left, right = inputs.split(",")
    shared = own_left = own_right = summed = alone = ""
    label_order = output + "".join(sorted(set(left + right) - set(output)))
    for axis in label_order:
        in_left = axis in left and sizes[axis] != 1
        in_right = axis in right and sizes[axis] != 1
        if axis not in output:
            if in_left and in_right:
                summed += axis
            elif in_left or in_right:
                alone += axis
        elif in_left and in_right:
            shared += axis
        elif in_left:
            own_left += axis
        else:
            own_right += axis
    if not summed:
        result = output
    elif own_left and own_right and label_order.index(own_right[-1]) < label_order.index(own_left[0]):
        result = shared + own_right + own_left
    else:
        result = shared + own_left + own_right
    return EinsumLowering(shared, own_left, own_right, summed, alone, result)


def merges_are_views(groups: Iterable[str], order: str, sizes: Mapping[str, int]) -> bool:
    """Whether merging each group of axes (outer to inner) of a dense tensor laid out ``order`` is a view."""
    strides: dict[str, int] = {}
    step = 1
    for axis in reversed(order):
        strides[axis] = step
        step *= sizes[axis]
    for group in groups:
        kept = [axis for axis in group if sizes[axis] != 1]
        for outer, inner in pairwise(kept):
            if strides[outer] != strides[inner] * sizes[inner]:
                return False
    return True


def _channel_axes(indices: str) -> str:
    return "".join(axis for axis in indices if axis not in _BATCH_AND_TIME)


def operand_is_view(equation: str, position: int, order: str, sizes: Mapping[str, int]) -> bool:
    """Whether what ``einsum`` saves of operand ``position`` (laid out ``order``) is that operand's storage."""
    lowering = einsum_lowering(equation, sizes)
    if not lowering.summed:
        return True  # an element-wise product saves its operands as they are
    indices = equation.split("->")[0].split(",")[position]
    if any(axis in indices for axis in lowering.summed_alone):
        return False
    return merges_are_views(lowering.groups(position), order, sizes)


def input_is_saved_as_is(plan: ContractionPlan, layout: str) -> bool:
    """Whether the ``u`` a plan saves is the layer input's own storage (else a copy the layer owns).

    ``layout`` is the input's memory order over ``bcl``. The spectral segment saves ``u`` as it is
    (a grouped layer's ``(b, g, i, l)`` view of its input is still a view); a time-domain einsum
    saves the operand it hands to ``bmm``.
    """
    for step in plan.steps:
        if step.kind == "contract" and not step.in_segment and "u" in step.inputs:
            position = step.inputs.index("u")
            indices = step.equation.split("->")[0].split(",")[position]
            order = layout.replace("c", _channel_axes(indices))
            lowered = lower_time_domain(step.equation)
            if lowered is not None:  # one bmm on (outer, contracted, inner) merges of u
                lowering = lowered[1]
                return merges_are_views([lowering.outer, lowering.contracted, lowering.inner], order, plan.sizes)
            return operand_is_view(step.equation, position, order, plan.sizes)
    return True


def ssm_output_layout(plan: ContractionPlan) -> str:
    """Memory order of an SSM layer's ``(b, d, l)`` output under ``plan``."""
    last = plan.steps[-1]
    indices = last.output.indices
    lowered = lower_time_domain(last.equation) if last.kind == "contract" else None
    if lowered is not None:
        order = lowered[1].result  # the bmm writes (outer, own, inner)
    elif last.kind == "contract":
        order = einsum_lowering(last.equation, plan.sizes).output
    else:
        order = indices  # the causal half of the inverse FFT is copied out contiguously
    channels = _channel_axes(indices)
    if not merges_are_views([channels], order, plan.sizes):
        return CONTIGUOUS  # the layer's reshape to (b, d, l) copies
    # The merged channel axis sits where its outermost axis of size > 1 was.
    kept = [axis for axis in channels if plan.sizes[axis] != 1] or [channels[0]]
    return "".join("c" if axis == kept[0] else axis for axis in order if axis not in channels or axis == kept[0])


def output_layout(op: LayerOp, layouts: Mapping[str, str], plan: ContractionPlan | None = None) -> str:
    """Memory order of ``op``'s output, given those of the outputs it reads (by op name)."""
    if op.kind == "ssm":
        if plan is None:
            raise ValueError(f"{op.name}: an SSM layer's layout needs its plan")
        return ssm_output_layout(plan)
    if op.kind == "norm" and op.variant == "layer":
        return TIME_MAJOR
    if op.kind in ("activation", "add"):
        return layouts[op.inputs[0]]
    return CONTIGUOUS  # convolutions, linear layers, batch norm, pooling
