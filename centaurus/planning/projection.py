"""A real weight contracted with a complex spectrum as one ``bmm`` that never copies the spectrum.

``torch.einsum`` lowers a pairwise contraction to ``bmm`` by permuting each operand to (shared,
own, contracted) axes and merging them with ``reshape``. For ``dc,bcfz->bdfz`` (a projection of a
spectrum's real view) the spectrum's own axes ``b`` and ``f z`` are not adjacent, so from batch 2
on einsum copies the whole spectrum before the product, and the result comes back permuted, so
making it complex again copies it once more. Measured on one CPU thread at b=32, c=64, d=8 and
1001 bins: 2.3 ms through einsum, 0.76 ms as a batch of ``W @ X`` on the spectrum's own memory.

A spectrum laid out as ``(outer, contracted, inner)`` in memory (every layout the planner
produces, once the contracted axes sit next to each other) is already a batch of matrices
``(contracted, inner)``; the weight, which is small, is the one permuted to ``(own, contracted)``
and broadcast over the outer axes. The product comes out as ``(outer, own, inner)``, contiguous.
:func:`lower` decides once per equation whether that form applies (run as a bmm, see
:func:`_bmm`); the spectral segment falls back to einsum where it does not (no contracted axis,
an axis summed within one operand, or a shared axis inside the matrices). A spectrum whose memory
order does not match its indices (a permuted view from an earlier step) is made contiguous first:
one copy, where einsum makes two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch

from centaurus.modes import TIME


@dataclass(frozen=True)
class MatmulLowering:
    """How ``weight[weight_indices] x spectrum[spectrum_indices] -> output`` runs as a batched matmul.

    ``outer`` are the spectrum axes before the contracted block (those also in the weight are
    ``shared``: the weight is indexed by them instead of broadcast), ``contracted`` the block in the
    spectrum's order, ``inner`` the spectrum axes after it (the frequency axis among them), ``own``
    the weight's axes that reach the output. The product's memory order is ``result``; ``output``
    is the order the caller asked for (the result is returned as a view in that order).
    """

    weight_indices: str
    spectrum_indices: str
    output: str
    outer: str
    shared: str
    contracted: str
    inner: str
    own: str

    @property
    def result(self) -> str:
        return self.outer + self.own + self.inner

    def weight_matrix(self, weight: torch.Tensor, sizes: dict[str, int]) -> torch.Tensor:
        """The weight as ``(outer broadcast..., own, contracted)``: size 1 on outer axes it lacks."""
        order = self.shared + self.own + self.contracted
        matrix = weight.permute([self.weight_indices.index(index) for index in order])
        shape = [sizes[index] if index in self.shared else 1 for index in self.outer]
        return matrix.reshape(*shape, _size(self.own, sizes), _size(self.contracted, sizes))

    def weight_from_matrix(self, matrix: torch.Tensor, sizes: dict[str, int]) -> torch.Tensor:
        """Inverse of :meth:`weight_matrix` for a gradient: sum the broadcast axes, restore the order."""
        broadcast = [axis for axis, index in enumerate(self.outer) if index not in self.shared]
        if broadcast:
            matrix = matrix.sum(dim=broadcast)
        order = self.shared + self.own + self.contracted
        unfolded = matrix.reshape([sizes[index] for index in order])
        return unfolded.permute([order.index(index) for index in self.weight_indices])


def _size(indices: str, sizes: dict[str, int]) -> int:
    return math.prod(sizes[index] for index in indices)


@lru_cache(maxsize=1024)
def lower(weight_indices: str, spectrum_indices: str, output: str) -> MatmulLowering | None:
    """The matmul form of this contraction, or ``None`` when it has none (see the module docstring)."""
    in_weight, in_spectrum, in_output = set(weight_indices), set(spectrum_indices), set(output)
    if not in_weight <= in_spectrum | in_output or not in_spectrum <= in_weight | in_output:
        return None  # an axis summed within one operand
    contracted_set = (in_weight & in_spectrum) - in_output
    if not contracted_set:
        return None  # an outer product: einsum multiplies element-wise, no copy to avoid
    positions = sorted(spectrum_indices.index(index) for index in contracted_set)
    if positions[-1] - positions[0] + 1 != len(positions):
        return None  # the contracted axes are not one block of the spectrum's memory
    outer = spectrum_indices[: positions[0]]
    inner = spectrum_indices[positions[-1] + 1 :]
    shared = "".join(index for index in outer if index in in_weight)
    if any(index in in_weight for index in inner) or not inner:
        return None  # a shared axis inside the matrices, or no columns to multiply
    own = "".join(index for index in output if index in in_weight and index not in in_spectrum)
    return MatmulLowering(
        weight_indices=weight_indices,
        spectrum_indices=spectrum_indices,
        output=output,
        outer=outer,
        shared=shared,
        contracted=spectrum_indices[positions[0] : positions[-1] + 1],
        inner=inner,
        own=own,
    )


def _sizes(lowering: MatmulLowering, weight: torch.Tensor, spectrum: torch.Tensor) -> dict[str, int]:
    sizes = dict(zip(lowering.spectrum_indices, spectrum.shape, strict=True))
    sizes.update(zip(lowering.weight_indices, weight.shape, strict=True))
    return sizes


def _columns(tensor: torch.Tensor, lead: str, rows: str, sizes: dict[str, int]) -> torch.Tensor:
    """A contiguous complex tensor ``(lead, rows, rest)`` as real ``(lead..., rows, rest * 2)`` (a view)."""
    real = torch.view_as_real(tensor)
    return real.reshape(*[sizes[index] for index in lead], _size(rows, sizes), -1)


def _bmm(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """``left @ right`` over broadcast leading axes, always as one ``bmm`` (or ``mm``) on the operands' memory.

    ``torch.matmul`` folds a product whose left operand broadcasts (batch size 1) into one ``mm``
    of the right operand's transpose, copying the spectrum twice (measured: twice the time of the
    whole projection). Expanding the small operand instead keeps the spectrum where it is. (The
    leading axes are broadcast by hand: ``torch.broadcast_shapes`` alone cost more than a small
    product. While tracing, sizes must stay traced values, so that path keeps to shape-generic
    operations and never specialises on a batch of 1.)
    """
    tracing = torch.jit.is_tracing()
    if tracing:
        lead = torch.broadcast_shapes(left.shape[:-2], right.shape[:-2])
    else:
        lead = torch.Size(max(a, b) for a, b in zip(left.shape[:-2], right.shape[:-2], strict=True))
    if not tracing and math.prod(lead) == 1:
        product = torch.mm(left.reshape(left.shape[-2:]), right.reshape(right.shape[-2:]))
    else:
        left = left.expand(*lead, *left.shape[-2:]).reshape(-1, *left.shape[-2:])
        right = right.expand(*lead, *right.shape[-2:]).reshape(-1, *right.shape[-2:])
        product = torch.bmm(left, right)
    return product.reshape(*lead, *product.shape[-2:])


def project(lowering: MatmulLowering, weight: torch.Tensor, spectrum: torch.Tensor) -> torch.Tensor:
    """``einsum(weight, spectrum)`` for a contiguous ``spectrum``, as a view in ``lowering.output`` order."""
    sizes = _sizes(lowering, weight, spectrum)
    product = _bmm(
        lowering.weight_matrix(weight, sizes), _columns(spectrum, lowering.outer, lowering.contracted, sizes)
    )
    result = torch.view_as_complex(product.reshape(*[sizes[index] for index in lowering.result], 2))
    return result.permute([lowering.result.index(index) for index in lowering.output])


def project_gradients(
    lowering: MatmulLowering, weight: torch.Tensor, spectrum: torch.Tensor, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of :func:`project`'s weight (real) and spectrum, given the output's gradient ``grad``."""
    sizes = _sizes(lowering, weight, spectrum)
    in_result_order = grad.permute([lowering.output.index(index) for index in lowering.result]).contiguous()
    grad_columns = _columns(in_result_order, lowering.outer, lowering.own, sizes)  # (outer, own, inner*2)
    matrix = lowering.weight_matrix(weight, sizes)  # (outer broadcast, own, contracted)
    grad_spectrum_real = _bmm(matrix.transpose(-1, -2), grad_columns)  # (outer, contracted, inner*2)
    grad_spectrum = torch.view_as_complex(grad_spectrum_real.reshape(*spectrum.shape, 2))
    spectrum_columns = _columns(spectrum, lowering.outer, lowering.contracted, sizes)
    grad_matrix = _bmm(grad_columns, spectrum_columns.transpose(-1, -2))  # (outer, own, contracted)
    return lowering.weight_from_matrix(grad_matrix, sizes), grad_spectrum


@lru_cache(maxsize=1024)
def lower_time_domain(equation: str) -> tuple[int, MatmulLowering] | None:
    """``(weight position, lowering)`` of a time-domain step ``signal x weight`` run as one real bmm.

    The same form as a projection of a spectrum, on a real tensor: ``torch.einsum`` would permute
    the signal to (b l, c) and copy it, then copy the (b l, d) product back to (b, d, l); as a batch
    of ``W @ X`` over the signal's outer axes neither copy happens (measured, one CPU thread,
    ``bnl,dn->bdl`` at b=32, n=8, d=128, L=1000: a training step 17.3 ms through einsum, 8.2 ms as
    bmm). Applies when exactly one operand carries time, the weight is not indexed by the signal's
    outer axes and is stored as its matrix ``(own, contracted)``, so no weight is ever copied.
    """
    inputs, output = equation.split("->")
    left, right = inputs.split(",")
    if (TIME in left) == (TIME in right):
        return None
    position = 1 if TIME in left else 0
    weight, signal = (right, left) if position == 1 else (left, right)
    lowering = lower(weight, signal, output)
    if lowering is None or lowering.shared or weight != lowering.own + lowering.contracted:
        return None
    return position, lowering


class RealProjection:
    """``einsum(weight, signal)`` for real signals as one bmm (see :func:`lower_time_domain`), with the
    weight's matrix built once: bind it to a constant weight (inference) to skip that per call."""

    def __init__(self, lowering: MatmulLowering, weight: torch.Tensor) -> None:
        sizes = dict(zip(lowering.weight_indices, weight.shape, strict=True))
        self._matrix = lowering.weight_matrix(weight, sizes)
        self._outer = len(lowering.outer)
        self._contracted = len(lowering.contracted)
        self._own = [sizes[index] for index in lowering.own]
        self._order = [lowering.result.index(index) for index in lowering.output]

    def __call__(self, signal: torch.Tensor) -> torch.Tensor:
        """A view in ``lowering.output`` order; the product is laid out as ``lowering.result``."""
        outer, inner = signal.shape[: self._outer], signal.shape[self._outer + self._contracted :]
        # The contracted size is the weight's (a model constant, so a trace stays shape-generic).
        columns = signal.reshape(*outer, self._matrix.shape[-1], -1)
        product = _bmm(self._matrix, columns)
        return product.reshape(*outer, *self._own, *inner).permute(self._order)


def project_real(lowering: MatmulLowering, weight: torch.Tensor, signal: torch.Tensor) -> torch.Tensor:
    """``einsum(weight, signal)`` for a real ``signal`` as one bmm (see :func:`lower_time_domain`), under
    plain autograd. A view in ``lowering.output`` order; the product is laid out as ``lowering.result``."""
    return RealProjection(lowering, weight)(signal)
