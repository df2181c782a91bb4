"""The basis kernel in factored form, contracted with weights by matrix products.

The kernel of a pole is ``K[l] = dt Re(p^l)`` with ``p = exp(dt A)``. Splitting time as
``l = q M + r`` (``0 <= r < M``) factors it exactly: ``p^l = p^(qM) p^r``, so

    K[P, q, r] = sum_z X[P, z, q] Y[P, z, r]
    X[P, :, q] = dt (Re p^(qM), -Im p^(qM)),   Y[P, :, r] = (Re p^r, Im p^r)

for the pole axes ``P``. The two factor tables have ``Q + M ~ 2 sqrt(L)`` columns instead of ``L``,
so the transcendental functions run on ``poles x 2 sqrt(L)`` elements, not ``poles x L``. A
contraction of the kernel with a weight, ``T[O, l] = sum_C W[w] K[P, l]`` (as in every mode's
kernel branch, e.g. dws ``E[c, n] K[c, n, l] -> T[c, l]``), becomes

    T[O, q, r] = sum_{C, z} (W X)[O, C, z, q] Y[P, z, r]

one batched matrix product with inner size ``2 |C|``, and the ``poles x L`` kernel is never built.
Without a weight the same product materialises ``K`` itself (inner size 2).

Backward is written by hand (:class:`_KernelContraction`): it saves the two factor tables
(``2 x poles x (Q + M)`` numbers, a few KiB where the kernel would be MiB) and the weight (a
parameter, saved by reference), runs the two transposed products, and takes the factors' gradients
to the poles in closed form. With ``s`` the time of a column (``qM`` or ``r``),

    dX/d(dt Re A) = s X,   dX/d(dt Im A) = s (Im X, -Re X),   dX/d(dt) = X / dt,
    dY/d(dt Re A) = s Y,   dY/d(dt Im A) = s (-Im Y, Re Y),

so backward evaluates no transcendental function and needs no nested autograd pass (which cost
more than the whole rest of a small layer's step). With ``plain`` (the ``autograd="plain"`` execution
policy), and always under ``torch.jit.is_tracing()`` or ``torch.compiler.is_exporting()``, the same
forward runs as plain operations (inference needs no custom backward, and exporters cannot serialise a
Python autograd function).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch

# Extra einsum letters: the (real, imaginary) axis and the two time factors (block, offset).
_Z, _Q, _R = "Z", "Q", "R"


def time_blocks(length: int) -> tuple[int, int]:
    """``(Q, M)``: time split into Q blocks of M samples, M a power of two near sqrt(length), Q M >= length.

    Powers of two keep the offset table a cache-friendly matrix dimension; Q M - length < M is the
    only padding.
    """
    if length < 4:
        return length, 1
    block = 1 << round(math.log2(math.sqrt(length)))
    return -(-length // block), block


@dataclass(frozen=True)
class KernelContraction:
    """``T[output, l] = sum W[weight] K[poles, l]`` (no weight: ``T = K``), evaluated in factored form.

    ``weight`` is the weight's index string ("" for none), ``poles`` the kernel's pole axes, ``output``
    the result's axes without time. Every equation the forward and backward run is a property here,
    so the cost conventions can read what executes.
    """

    weight: str
    poles: str
    output: str
    length: int

    @cached_property
    def blocks(self) -> tuple[int, int]:
        return time_blocks(self.length)

    @property
    def contracted(self) -> str:
        """Pole axes summed in the product (in the weight and the kernel, not in the output)."""
        return "".join(index for index in self.poles if index not in self.output)

    @property
    def mixed(self) -> str:
        """Axes of the weighted factor ``W X``: the output's, then the contracted ones."""
        return self.output + self.contracted

    @property
    def weighting(self) -> str:
        """``W, X -> WX``."""
        return f"{self.weight},{self.poles}{_Z}{_Q}->{self.mixed}{_Z}{_Q}"

    @cached_property
    def _blocked(self) -> tuple[str, str, str]:
        """Index strings of ``WX``, ``Y`` and ``T`` in the blocked product. Each backward equation is
        the same product with another of the three as its result, so all come from these."""
        return f"{self.mixed}{_Z}{_Q}", f"{self.poles}{_Z}{_R}", f"{self.output}{_Q}{_R}"

    @property
    def product(self) -> str:
        """``WX, Y -> T`` (blocked time): the matrix product that does the work."""
        mixed, offset, result = self._blocked
        return f"{mixed},{offset}->{result}"

    @property
    def mixed_gradient(self) -> str:
        """``dT, Y -> d(WX)``."""
        mixed, offset, result = self._blocked
        return f"{result},{offset}->{mixed}"

    @property
    def offset_gradient(self) -> str:
        """``WX, dT -> dY``."""
        mixed, offset, result = self._blocked
        return f"{mixed},{result}->{offset}"

    def macs(self, sizes: dict[str, int]) -> int:
        """Multiply-adds of the product (each transposed product in backward costs the same)."""
        blocks, block = self.blocks
        axes = dict.fromkeys(self.weight + self.poles)
        return math.prod(sizes[index] for index in axes) * 2 * blocks * block


def _column_times(blocks: int, block: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The time of each column of the block table (``q M``) and of the offset table (``r``)."""
    starts = torch.arange(blocks, dtype=like.dtype, device=like.device) * block
    return starts, torch.arange(block, dtype=like.dtype, device=like.device)


def _factors(
    rate: torch.Tensor, freq: torch.Tensor, scale: torch.Tensor, blocks: int, block: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``X[P, z, q]`` and ``Y[P, z, r]`` (see the module docstring) from dt Re A, dt Im A and dt."""
    starts, offsets = _column_times(blocks, block, rate)
    rate, freq, scale = rate.unsqueeze(-1), freq.unsqueeze(-1), scale.unsqueeze(-1)
    decay = scale * torch.exp(rate * starts)
    phase = freq * starts
    block_factor = torch.stack((decay * torch.cos(phase), -decay * torch.sin(phase)), dim=-2)
    decay = torch.exp(rate * offsets)
    phase = freq * offsets
    offset_factor = torch.stack((decay * torch.cos(phase), decay * torch.sin(phase)), dim=-2)
    return block_factor, offset_factor


def _unblock(blocked: torch.Tensor, length: int) -> torch.Tensor:
    """``(..., Q, M)`` to ``(..., L)``: merge the time factors and cut the padding.

    Cut into a copy of its own, so that whoever saves the result keeps L samples, not Q M."""
    merged = blocked.reshape(*blocked.shape[:-2], -1)
    return merged if merged.shape[-1] == length else merged[..., :length].contiguous()


def _forward(
    spec: KernelContraction,
    rate: torch.Tensor,
    freq: torch.Tensor,
    scale: torch.Tensor,
    weight: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The kernel, and the two factor tables it was made from (all the Function saves for backward)."""
    blocks, block = spec.blocks
    block_factor, offset_factor = _factors(rate, freq, scale, blocks, block)
    mixed = block_factor if weight is None else torch.einsum(spec.weighting, weight, block_factor)
    return _unblock(torch.einsum(spec.product, mixed, offset_factor), spec.length), block_factor, offset_factor


def _pole_gradients(
    grad_block: torch.Tensor,
    grad_offset: torch.Tensor,
    block_factor: torch.Tensor,
    offset_factor: torch.Tensor,
    scale: torch.Tensor,
    spec: KernelContraction,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of ``dt Re A``, ``dt Im A`` and ``dt`` from those of the factor tables (closed form,
    see the module docstring)."""
    starts, offsets = _column_times(*spec.blocks, block_factor)
    block_re, block_im = block_factor.unbind(-2)
    offset_re, offset_im = offset_factor.unbind(-2)
    grad_block_re, grad_block_im = grad_block.unbind(-2)
    grad_offset_re, grad_offset_im = grad_offset.unbind(-2)
    block_dot = grad_block_re * block_re + grad_block_im * block_im
    offset_dot = grad_offset_re * offset_re + grad_offset_im * offset_im
    block_cross = grad_block_re * block_im - grad_block_im * block_re
    offset_cross = grad_offset_im * offset_re - grad_offset_re * offset_im
    grad_rate = block_dot @ starts + offset_dot @ offsets
    grad_freq = block_cross @ starts + offset_cross @ offsets
    grad_scale = block_dot.sum(-1) / scale
    return grad_rate, grad_freq, grad_scale


class _KernelContraction(torch.autograd.Function):
    """The factored kernel contraction, saving only its factor tables (see the module docstring)."""

    @staticmethod
    def forward(
        ctx: Any,
        spec: KernelContraction,
        rate: torch.Tensor,
        freq: torch.Tensor,
        scale: torch.Tensor,
        weight: torch.Tensor | None,
    ) -> torch.Tensor:
        kernel, block_factor, offset_factor = _forward(spec, rate, freq, scale, weight)
        ctx.spec = spec
        ctx.save_for_backward(block_factor, offset_factor, scale, weight)
        return kernel

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        spec: KernelContraction = ctx.spec
        block_factor, offset_factor, scale, weight = ctx.saved_tensors
        blocks, block = spec.blocks
        padding = blocks * block - spec.length
        grad_blocked = torch.nn.functional.pad(grad, (0, padding)) if padding else grad.contiguous()
        grad_blocked = grad_blocked.reshape(*grad.shape[:-1], blocks, block)
        mixed = block_factor if weight is None else torch.einsum(spec.weighting, weight, block_factor)
        grad_mixed = torch.einsum(spec.mixed_gradient, grad_blocked, offset_factor)
        grad_offset = torch.einsum(spec.offset_gradient, mixed, grad_blocked)
        grad_weight = None
        if weight is None:
            grad_block = grad_mixed
        else:
            grad_block = _sum_to(grad_mixed * _expand(weight, spec.weight, spec.mixed), spec.mixed, spec.poles)
            if ctx.needs_input_grad[4]:
                grad_weight = _sum_to(grad_mixed * _expand(block_factor, spec.poles, spec.mixed), spec.mixed,
                                      spec.weight, keep=_Z + _Q).sum(dim=(-2, -1))  # fmt: skip
        if not any(ctx.needs_input_grad[1:4]):
            return (None, None, None, None, grad_weight)
        pole_grads = _pole_gradients(grad_block, grad_offset, block_factor, offset_factor, scale, spec)
        needed = [grad if need else None for grad, need in zip(pole_grads, ctx.needs_input_grad[1:4], strict=True)]
        return (None, *needed, grad_weight)


def _expand(tensor: torch.Tensor, indices: str, order: str) -> torch.Tensor:
    """A view of ``tensor`` (axes ``indices`` then any trailing z, q axes) broadcastable against ``order`` + z, q."""
    trailing = tensor.dim() - len(indices)
    view = tensor.permute([indices.index(index) for index in order if index in indices] + [
        len(indices) + axis for axis in range(trailing)])  # fmt: skip
    for position, index in enumerate(order):
        if index not in indices:
            view = view.unsqueeze(position)
    for _ in range(2 - trailing):
        view = view.unsqueeze(-1)
    return view


def _sum_to(tensor: torch.Tensor, order: str, target: str, keep: str = _Z + _Q) -> torch.Tensor:
    """Sum a tensor over axes ``order`` (+ ``keep``) down to ``target`` (+ ``keep``), in ``target``'s order."""
    summed = [axis for axis, index in enumerate(order) if index not in target]
    reduced = tensor.sum(dim=summed) if summed else tensor
    remaining = [index for index in order if index in target]
    extra = list(range(len(remaining), len(remaining) + len(keep)))
    return reduced.permute([remaining.index(index) for index in target] + extra)


def contract_kernel(
    spec: KernelContraction,
    rate: torch.Tensor,
    freq: torch.Tensor,
    scale: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    plain: bool = False,
) -> torch.Tensor:
    """``T[spec.output, l]`` from the poles (``dt Re A``, ``dt Im A``, ``dt``, shaped like the pole axes);
    ``plain``: under plain autograd instead of the memory-lean Function."""
    if plain or torch.jit.is_tracing() or torch.compiler.is_exporting():
        return _forward(spec, rate, freq, scale, weight)[0]
    return _KernelContraction.apply(spec, rate, freq, scale, weight)
