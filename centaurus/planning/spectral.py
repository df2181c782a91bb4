"""The causal FFT convolution segment of a plan, as a memory-lean custom autograd function.

A plan's spectral segment runs from the forward FFTs (of the signal-branch tensor ``x`` and the
kernel-branch tensor ``k``, zero-padded to 2L) through the pairwise contractions in frequency to the
inverse FFT, whose first L samples are the causal convolution. Plain autograd would keep every
complex spectrum (twice the padded size of its real input, twice again for complex). Here backward
is written by hand:

* the adjoint of ``irfft(Z, N)[:L]`` is ``rfft(pad(g, N)) * w / N`` with ``w = 2`` for interior
  bins and 1 for DC and Nyquist;
* the adjoint of ``rfft(x, N)`` (x of length L) is ``N * irfft(G / w, N)[:L]``;
* a pairwise step ``O = A . B`` gives ``dA = dO . conj(B)``, real parts taken for real operands.

With the ``recompute`` policy only the real inputs ``x``, ``k`` and the real weights are saved,
and backward recomputes the spectra (two extra FFTs, and any spectral step but the last); with
``store`` the step inputs are saved and nothing is recomputed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import torch

from centaurus.planning._plan import ContractionPlan, PlanStep
from centaurus.planning.projection import lower, project, project_gradients
from centaurus.policy import DEFAULT_POLICY, ExecutionPolicy

_REAL_AXIS = "z"  # extra einsum index for the (real, imaginary) axis of a complex tensor's real view


@dataclass(frozen=True)
class SpectralStep:
    """One pairwise product inside the segment (a spectrum times a spectrum or a real weight)."""

    equation: str
    inputs: tuple[str, str]
    output: str
    weight_position: int | None  # which input is a real weight (None: both complex spectra)


@dataclass(frozen=True)
class SpectralProgram:
    """The segment of a plan the autograd function executes."""

    length: int
    fft_length: int
    signal_input: str
    signal_spectrum: str
    kernel_input: str
    kernel_spectrum: str
    steps: tuple[SpectralStep, ...]
    weights: tuple[str, ...]
    output: str
    store: bool
    real_products: bool = False
    """Products of two spectra as four real einsums (:func:`real_batched_einsum`) instead of complex ones."""

    @staticmethod
    def from_plan(plan: ContractionPlan, policy: ExecutionPolicy = DEFAULT_POLICY) -> SpectralProgram:
        """The plan's segment as ``policy`` runs it (FFT length, form of the spectrum products)."""
        segment = [step for step in plan.steps if step.in_segment]
        ffts = [step for step in segment if step.kind == "rfft"]
        (inverse,) = [step for step in segment if step.kind == "irfft"]
        steps: list[SpectralStep] = []
        weights: list[str] = []
        for step in segment:
            if step.kind != "contract":
                continue
            steps.append(compile_step(step))
            weights.extend(name for name in step.inputs if not name.endswith("^"))
        signal, kernel = ffts
        return SpectralProgram(
            length=plan.length,
            fft_length=policy.spectral_fft_length(plan.fft_length),
            signal_input=signal.inputs[0],
            signal_spectrum=signal.output.name,
            kernel_input=kernel.inputs[0],
            kernel_spectrum=kernel.output.name,
            steps=tuple(steps),
            weights=tuple(weights),
            output=inverse.output.name,
            store=plan.spectra == "store",
            real_products=policy.complex_product == "real",
        )


def compile_step(step: PlanStep) -> SpectralStep:
    """A contract step of the segment, with which input (if any) is a real weight."""
    left, right = step.inputs
    if left.endswith("^") and right.endswith("^"):
        weight_position = None
    else:
        weight_position = 1 if left.endswith("^") else 0
    return SpectralStep(step.equation, (left, right), step.output.name, weight_position)


def _split(equation: str) -> tuple[str, str, str]:
    inputs, output = equation.split("->")
    left, right = inputs.split(",")
    return left, right, output


def is_matrix_product(equation: str) -> bool:
    """Whether a product of two spectra is a batch of matrix products by its letters (some index
    summed, and each operand with an index of its own); see :func:`spectrum_product_form` for how
    one runs at given sizes."""
    left, right, output = _split(equation)
    summed = any(index not in output for index in left + right)
    own_left = any(index in output and index not in right for index in left)
    own_right = any(index in output and index not in left for index in right)
    return summed and own_left and own_right


SpectrumProductForm = Literal["broadcast", "accumulate", "bmm"]

# Below this many summed terms per output element, accumulating one broadcast product per term
# beats bmm, which first copies both spectra frequency-first and returns a permuted result (one
# CPU thread, complex64, 2001 bins: at 32 x 32 outputs, 7.0 ms against 15.8 ms for 4 terms,
# 15.5 against 17.5 for 8, 61 against 29 for 32).
ACCUMULATE_BELOW = 16


def spectrum_product_form(equation: str, sizes: Mapping[str, int]) -> SpectrumProductForm:
    """How a product of two spectra runs at these sizes (every form computes the same numbers).

    * ``broadcast``: one broadcast multiply, then a sum over the summed axes (if any of size > 1).
      For products that are no matrix product by their letters (the element-wise ``bcf,cf->bcf``
      of every plan and its gradient ``bcf,bcf->cf``), and for matrix products with an extent of 1
      (an outer product, or a matrix-vector product per bin): the intermediate is then no larger
      than an operand or the output.
    * ``accumulate``: fewer than :data:`ACCUMULATE_BELOW` summed terms: the output is built in
      place, one ``addcmul`` per term, reading each operand once and never materialising the
      broadcast product.
    * ``bmm``: a batch of real matrix products, frequency-first (see :func:`batched_einsum`).
    """
    left, right, output = _split(equation)
    if not is_matrix_product(equation):
        return "broadcast"
    summed = {index for index in left + right if index not in output}
    rows = math.prod(sizes[index] for index in dict.fromkeys(left) if index in output and index not in right)
    columns = math.prod(sizes[index] for index in dict.fromkeys(right) if index in output and index not in left)
    terms = math.prod(sizes[index] for index in summed)
    if min(rows, columns, terms) == 1:
        return "broadcast"
    if terms < ACCUMULATE_BELOW and all(index in left and index in right for index in summed):
        return "accumulate"
    return "bmm"


def batched_einsum(equation: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A product of two spectra in the form :func:`spectrum_product_form` picks for its sizes.

    As a batch of matrix products, shared batch axes are moved first when one is innermost: a
    product of two spectra batches over frequency, the innermost (stride-1) axis, and torch.einsum
    then hands bmm a strided batch and runs 10-30x slower on CPU than on the same data laid out
    batch-first (measured: ``bcf,cdf->bdf`` at b=c=d=8, F=1001: 2.5 ms vs 0.1 ms). That result is
    returned as a view in the requested index order; the other forms return it contiguous. What to
    do is worked out once per equation and pair of shapes (:func:`_compile_product`).
    """
    return _compile_product(equation, tuple(a.shape), tuple(b.shape))(a, b)


def real_batched_einsum(equation: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:func:`batched_einsum` of two spectra as four real products: ``(ar br - ai bi) + i (ar bi + ai br)``
    (the ``complex_product="real"`` policy: ONNX has no complex einsum)."""
    real = batched_einsum(equation, a.real, b.real) - batched_einsum(equation, a.imag, b.imag)
    imag = batched_einsum(equation, a.real, b.imag) + batched_einsum(equation, a.imag, b.real)
    return torch.complex(real, imag)


_Product = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@lru_cache(maxsize=4096)
def _compile_product(equation: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> _Product:
    left, right, output = _split(equation)
    sizes = {**dict(zip(left, a_shape, strict=True)), **dict(zip(right, b_shape, strict=True))}
    form = spectrum_product_form(equation, sizes)
    summed = "".join(dict.fromkeys(index for index in left + right if index not in output))
    if form == "broadcast":
        return _broadcast_product(left, right, output, summed, sizes)
    if form == "accumulate":
        return _accumulated_product(left, right, output, summed, sizes)
    batch = [index for index in output if index in left and index in right]
    if not batch or (left[-1] not in batch and right[-1] not in batch):
        return lambda a, b: torch.einsum(equation, a, b)
    lead = "".join(batch)

    def batch_first(indices: str) -> tuple[str, list[int]]:
        first = lead + "".join(index for index in indices if index not in batch)
        return first, [indices.index(index) for index in first]

    left_first, left_order = batch_first(left)
    right_first, right_order = batch_first(right)
    output_first = lead + "".join(index for index in output if index not in batch)
    equation_first = f"{left_first},{right_first}->{output_first}"
    output_order = [output_first.index(index) for index in output]

    def product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a_first, b_first = a.permute(left_order).contiguous(), b.permute(right_order).contiguous()
        return torch.einsum(equation_first, a_first, b_first).permute(output_order)

    return product


def _alignment(indices: str, order: str, sizes: Mapping[str, int]) -> tuple[list[int], list[int]]:
    """How to view a tensor with axes ``indices`` with axes in ``order`` (size 1 where it has none):
    the permutation of its own axes, then the shape to view that as."""
    permutation = [indices.index(index) for index in order if index in indices]
    shape = [sizes[index] if index in indices else 1 for index in order]
    return permutation, shape


def _broadcast_product(left: str, right: str, output: str, summed: str, sizes: Mapping[str, int]) -> _Product:
    """A pairwise product as a broadcast multiply and a sum (see :func:`spectrum_product_form`).

    These are the element-wise spectrum products of every plan (``bcf,cf->bcf``), their gradients
    (``bcf,bcf->cf``) and matrix products with an extent of 1. Lowered to ``bmm`` they are batches
    of 1 x 1 or 1 x k products that first copy both operands frequency-first, which measured slower
    than the whole rest of a dws layer's step. Summed axes go just before the innermost (frequency)
    axis, so the product streams along it; summed axes of size 1 are dropped, not summed.
    """
    order = output[:-1] + summed + output[-1] if summed else output
    left_order, left_shape = _alignment(left, order, sizes)
    right_order, right_shape = _alignment(right, order, sizes)
    summed_axes = tuple(range(len(output) - 1, len(output) - 1 + len(summed)))
    output_shape = [sizes[index] for index in output]
    squeeze = math.prod(sizes[index] for index in summed) == 1

    def product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        multiplied = a.permute(left_order).view(left_shape) * b.permute(right_order).view(right_shape)
        if not summed:
            return multiplied
        return multiplied.reshape(output_shape) if squeeze else multiplied.sum(dim=summed_axes)

    return product


def _accumulated_product(left: str, right: str, output: str, summed: str, sizes: Mapping[str, int]) -> _Product:
    """``out = sum_k a[..., k] * b[..., k]`` over the few summed terms, in place, one ``addcmul`` each
    (every summed index is in both operands; see :func:`spectrum_product_form`). Under plain autograd
    (an input needs a gradient: the ``autograd="plain"`` policy), out of place, as autograd requires."""
    order = output + summed
    left_order, left_shape = _alignment(left, order, sizes)
    right_order, right_shape = _alignment(right, order, sizes)
    output_shape = [sizes[index] for index in output]
    terms: list[tuple[Any, ...]] = [
        (..., *term) for term in itertools.product(*(range(sizes[index]) for index in summed))
    ]

    def product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a_view, b_view = a.permute(left_order).view(left_shape), b.permute(right_order).view(right_shape)
        if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
            differentiable = a_view[terms[0]] * b_view[terms[0]]
            for term in terms[1:]:
                differentiable = torch.addcmul(differentiable, a_view[term], b_view[term])
            return differentiable.reshape(output_shape)
        result = torch.empty(output_shape, dtype=torch.result_type(a, b), device=a.device)
        torch.mul(a_view[terms[0]], b_view[terms[0]], out=result)
        for term in terms[1:]:
            result.addcmul_(a_view[term], b_view[term])
        return result

    return product


def _as_complex(tensor: torch.Tensor) -> torch.Tensor:
    if tensor.stride(-1) != 1 or any(stride % 2 for stride in tensor.stride()[:-1]):
        tensor = tensor.contiguous()
    return torch.view_as_complex(tensor)


def _weight_times_spectrum(
    weight_indices: str, spectrum_indices: str, output_indices: str, weight: torch.Tensor, spectrum: torch.Tensor
) -> torch.Tensor:
    """A real weight contracted with a spectrum on its real view: 2 real MACs per complex MAC.

    As a matmul on the spectrum's own memory where the equation allows (see :mod:`.projection`),
    else through einsum, which copies the spectrum."""
    lowering = lower(weight_indices, spectrum_indices, output_indices)
    if lowering is not None:
        return project(lowering, weight, spectrum.contiguous())
    z = _REAL_AXIS
    equation = f"{weight_indices},{spectrum_indices}{z}->{output_indices}{z}"
    return _as_complex(torch.einsum(equation, weight, torch.view_as_real(spectrum)))


def run_spectral_step(step: SpectralStep, env: dict[str, torch.Tensor], real_products: bool = False) -> torch.Tensor:
    """The product of one segment step, from its inputs in ``env`` (by name); ``real_products``: a product of
    two spectra as real einsums."""
    left, right, output = _split(step.equation)
    a, b = env[step.inputs[0]], env[step.inputs[1]]
    if step.weight_position is None:
        return (real_batched_einsum if real_products else batched_einsum)(step.equation, a, b)
    if step.weight_position == 0:
        return _weight_times_spectrum(left, right, output, a, b)
    return _weight_times_spectrum(right, left, output, b, a)


def _step_gradients(
    step: SpectralStep, env: dict[str, torch.Tensor], grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of both inputs of ``step`` given the gradient of its output."""
    left, right, output = _split(step.equation)
    a, b = env[step.inputs[0]], env[step.inputs[1]]
    z = _REAL_AXIS
    if step.weight_position is None:
        grad_a = batched_einsum(f"{output},{right}->{left}", grad, b.conj())
        grad_b = batched_einsum(f"{output},{left}->{right}", grad, a.conj())
        return grad_a, grad_b
    weight_indices, spectrum_indices = (left, right) if step.weight_position == 0 else (right, left)
    weight, spectrum = (a, b) if step.weight_position == 0 else (b, a)
    lowering = lower(weight_indices, spectrum_indices, output)
    if lowering is not None:
        grad_weight, grad_spectrum = project_gradients(lowering, weight, spectrum.contiguous(), grad)
        return (grad_weight, grad_spectrum) if step.weight_position == 0 else (grad_spectrum, grad_weight)
    grad_real = torch.view_as_real(grad)
    grad_spectrum = _as_complex(torch.einsum(f"{output}{z},{weight_indices}->{spectrum_indices}{z}", grad_real, weight))
    grad_weight = torch.einsum(
        f"{output}{z},{spectrum_indices}{z}->{weight_indices}", grad_real, torch.view_as_real(spectrum)
    )
    return (grad_weight, grad_spectrum) if step.weight_position == 0 else (grad_spectrum, grad_weight)


def _rfft_adjoint(grad: torch.Tensor, fft_length: int, length: int) -> torch.Tensor:
    """``N irfft(G / w)[:L]`` with bin weights w: 1 for DC and Nyquist, 2 for the others (each interior
    bin stands for two); the weights are applied in place on the scaled copy (N is even: N = 2L)."""
    scaled = grad * (fft_length / 2)
    scaled[..., 0] *= 2
    scaled[..., -1] *= 2
    return torch.fft.irfft(scaled, n=fft_length)[..., :length]


def _irfft_adjoint(grad: torch.Tensor, fft_length: int) -> torch.Tensor:
    """``rfft(g) w / N`` (bin weights as in :func:`_rfft_adjoint`)."""
    spectrum = torch.fft.rfft(grad, n=fft_length) * (2 / fft_length)
    spectrum[..., 0] *= 0.5
    spectrum[..., -1] *= 0.5
    return spectrum


def _forward_env(
    program: SpectralProgram, signal: torch.Tensor, kernel: torch.Tensor, weights: tuple[torch.Tensor, ...]
) -> dict[str, torch.Tensor]:
    env = dict(zip(program.weights, weights, strict=True))
    env[program.signal_spectrum] = torch.fft.rfft(signal, n=program.fft_length)
    env[program.kernel_spectrum] = torch.fft.rfft(kernel, n=program.fft_length)
    for step in program.steps[:-1]:
        env[step.output] = run_spectral_step(step, env, program.real_products)
    return env


def _segment_forward(
    program: SpectralProgram, signal: torch.Tensor, kernel: torch.Tensor, weights: tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The segment's output and the spectra it computed on the way (by name)."""
    env = _forward_env(program, signal, kernel, weights)
    spectrum = run_spectral_step(program.steps[-1], env, program.real_products)
    # A copy of the causal half, so that whoever saves the output does not pin the 2L buffer.
    output = torch.fft.irfft(spectrum, n=program.fft_length)[..., : program.length].contiguous()
    return output, env


def spectral_segment(
    program: SpectralProgram, signal: torch.Tensor, kernel: torch.Tensor, *weights: torch.Tensor, plain: bool = False
) -> torch.Tensor:
    """The segment's output: through :class:`SpectralSegment` (memory-lean backward), or with ``plain`` the same
    operations in the same order under plain autograd (the ``autograd="plain"`` policy)."""
    if plain:
        return _segment_forward(program, signal, kernel, weights)[0]
    return SpectralSegment.apply(program, signal, kernel, *weights)


class SpectralSegment(torch.autograd.Function):
    """``irfft(steps(rfft(x), rfft(k), weights))[..., :L]`` with a hand-written backward."""

    @staticmethod
    def forward(
        ctx: Any,
        program: SpectralProgram,
        signal: torch.Tensor,
        kernel: torch.Tensor,
        *weights: torch.Tensor,
    ) -> torch.Tensor:
        output, env = _segment_forward(program, signal, kernel, weights)
        ctx.program = program
        if program.store:
            names = sorted({name for step in program.steps for name in step.inputs})
            ctx.stored_names = names
            ctx.save_for_backward(*[env[name] for name in names])
        else:
            ctx.save_for_backward(signal, kernel, *weights)
        return output

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        program: SpectralProgram = ctx.program
        saved = ctx.saved_tensors
        if program.store:
            env = dict(zip(ctx.stored_names, saved, strict=True))
        else:
            env = _forward_env(program, saved[0], saved[1], tuple(saved[2:]))
        # Every spectral step is diagonal in frequency, so the bin weights w / N of the inverse FFT's
        # adjoint cancel against the N / w of the forward FFTs' adjoints on the way to x and k. Only
        # the real weights' gradients (sums over bins) need them: without weights, skip both passes.
        weighted = bool(program.weights)
        if weighted:
            start = _irfft_adjoint(grad_output, program.fft_length)
        else:
            start = torch.fft.rfft(grad_output, n=program.fft_length)
        grads: dict[str, torch.Tensor] = {program.steps[-1].output: start}
        for step in reversed(program.steps):
            grad_a, grad_b = _step_gradients(step, env, grads.pop(step.output))
            for name, grad in ((step.inputs[0], grad_a), (step.inputs[1], grad_b)):
                grads[name] = grads[name] + grad if name in grads else grad
        grad_signal = grad_kernel = None

        def adjoint(spectrum_grad: torch.Tensor) -> torch.Tensor:
            if weighted:
                return _rfft_adjoint(spectrum_grad, program.fft_length, program.length)
            return torch.fft.irfft(spectrum_grad, n=program.fft_length)[..., : program.length]

        if ctx.needs_input_grad[1]:
            grad_signal = adjoint(grads[program.signal_spectrum])
        if ctx.needs_input_grad[2]:
            grad_kernel = adjoint(grads[program.kernel_spectrum])
        grad_weights = tuple(grads[name] for name in program.weights)
        return (None, grad_signal, grad_kernel, *grad_weights)
