"""Export-time adjustments that let the TorchScript tracer and the ONNX exporter see a plain inference graph.

Training in ``centaurus`` runs custom ``torch.autograd.Function``s whose only purpose is a
memory-lean backward. The factored basis kernel (``centaurus.planning.kernel``) already runs as plain
operations while tracing or exporting; the FFT segment's ``SpectralSegment`` does not yet:

* a traced ``SpectralSegment`` would be an opaque
  ``prim::PythonOp`` that ``torch.jit.save`` cannot serialise. While tracing, the sizes the
  layers read from ``u.shape`` are 0-d tensors, which the planner rejects (``batch: got tensor(2)``).
  :func:`traceable_inference` calls the Functions' own ``forward`` (same ops, same order: the trace
  is bit-exact) and hands the planner plain ints, but only while ``torch.jit.is_tracing()``.
* The dynamo ONNX exporter handles both Functions and the FFTs, but has no ONNX translation of an
  einsum between two complex spectra ("No decompositions registered for the complex-valued input"),
  and onnxruntime's float32 DFT loses about three digits for FFT lengths that are not powers of two
  (measured on a convolution with outputs of magnitude ~3: max error 3e-3 at N = 16000, 4e-6 at N = 16384).
  The log-mel frontend's per-frame DFT has the window's length (400 points by default), which
  cannot be padded: it is an STFT, not a convolution. On the 91 test clips of the quick-start corpus
  it alone made exported keyword spotters miss the float32 tolerance (up to 4e-4 of the output scale;
  2.7e-5 once it was a matmul, 2.9e-6 with the SSM FFTs padded too).
  :func:`onnx_friendly_graph` writes each complex product as four real einsums, pads every SSM FFT
  to the next power of two and computes the frontend's DFT as a matmul with cos/sin tables (built in
  float64), but only while ``torch.compiler.is_exporting()``. All three are exact in exact arithmetic:
  a causal convolution computed by FFT is the same for any FFT length >= 2L - 1, and a DFT is a matrix.

The patches last for the ``with`` block, one block at a time (a lock), and act only while tracing
or exporting. The tracing flag is per thread, so other threads run the original code during a trace;
the exporting flag is process-wide, so a forward in another thread during an ONNX export would take
the rewritten path, which differs from the original by float rounding only.
A small change in ``centaurus`` would make the TorchScript half unnecessary: under
``torch.jit.is_tracing()`` or ``torch.compiler.is_exporting()``, call the plain forward of the two
Functions instead of ``.apply`` (inference needs no custom backward), and let ``SSMLayer.plan`` take
the 0-d size tensors a tracer passes (``int(batch), int(length)``). The ONNX half needs an opt-in FFT
length policy (power-of-two padding), a real-arithmetic complex product in the spectral executor, a
matmul DFT option in the frontend.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from centaurus.layer import SSMLayer
from centaurus.networks.frontend import LOG_FLOOR, LogMelFrontend
from centaurus.planning import execute, spectral
from centaurus.planning.plan import ContractionPlan

_LOCK = threading.RLock()


class _NoContext:
    """Stands in for an autograd ``ctx`` when a Function's ``forward`` is called directly: nothing is saved."""

    def save_for_backward(self, *tensors: torch.Tensor) -> None:
        del tensors

    def mark_non_differentiable(self, *tensors: torch.Tensor) -> None:
        del tensors


def _plain_when_tracing(function: type[torch.autograd.Function]) -> Callable[..., Any]:
    original = function.apply

    def apply(*args: Any) -> Any:
        if torch.jit.is_tracing():
            return function.forward(_NoContext(), *args)
        return original(*args)

    return apply


@contextmanager
def _patched(owner: object, name: str, replacement: object) -> Iterator[None]:
    """Set ``owner.name`` for the block; restore exactly what was there (own attribute or inherited)."""
    own = name in vars(owner)
    previous = vars(owner)[name] if own else None
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        if own:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)


@contextmanager
def traceable_inference() -> Iterator[None]:
    """While ``torch.jit.is_tracing()``: the custom Functions run their forward inline, plans get int sizes."""
    original_plan = SSMLayer.plan

    def plan(self: SSMLayer, batch: int, length: int) -> ContractionPlan:
        if torch.jit.is_tracing():
            batch, length = int(batch), int(length)
        return original_plan(self, batch, length)

    with (
        _LOCK,
        _patched(spectral.SpectralSegment, "apply", staticmethod(_plain_when_tracing(spectral.SpectralSegment))),
        _patched(SSMLayer, "plan", plan),
    ):
        yield


def _power_of_two(length: int) -> int:
    return 1 << (length - 1).bit_length()


def _dft_tables(window: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and -sin of 2 pi n k / N (n < N, k <= N/2) in ``like``'s dtype; n k is reduced modulo N in integers
    and the angles are taken in float64, so the tables are exact to float32 rounding."""
    turns = torch.remainder(torch.outer(torch.arange(window), torch.arange(window // 2 + 1)), window)
    angles = turns.to(torch.float64) * (2.0 * math.pi / window)
    return torch.cos(angles).to(like), torch.sin(angles).neg().to(like)


def matmul_dft_features(frontend: LogMelFrontend, padded: torch.Tensor) -> torch.Tensor:
    """:meth:`LogMelFrontend.features` with the per-frame real DFT as two matmuls instead of ``rfft``.

    The same steps in the same order otherwise (frames, Hann window, power, mel filterbank, log, norm);
    the power of bin k is (sum_n x_n cos)^2 + (sum_n x_n sin)^2, the squared magnitude of the DFT.
    """
    batch, channels, _ = padded.shape
    frames = padded.unfold(-1, frontend.window, frontend.hop) * frontend.hann
    cos, sin = _dft_tables(frontend.window, frames)
    power = torch.matmul(frames, cos).square() + torch.matmul(frames, sin).square()
    mel = torch.matmul(power, frontend.filterbank)
    logmel = torch.log(mel + LOG_FLOOR).transpose(-1, -2).reshape(batch, channels * frontend.mels, -1)
    return frontend.norm(logmel)


@contextmanager
def onnx_friendly_graph() -> Iterator[None]:
    """While ``torch.compiler.is_exporting()``: complex products as real einsums, SSM FFT lengths powers of
    two, the frontend's DFT a matmul."""
    original_einsum = spectral.batched_einsum
    original_program = execute._program
    original_features = LogMelFrontend.features

    def batched_einsum(equation: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if not (torch.compiler.is_exporting() and a.is_complex() and b.is_complex()):
            return original_einsum(equation, a, b)
        real = original_einsum(equation, a.real, b.real) - original_einsum(equation, a.imag, b.imag)
        imag = original_einsum(equation, a.real, b.imag) + original_einsum(equation, a.imag, b.real)
        return torch.complex(real, imag)

    def program(plan: ContractionPlan) -> spectral.SpectralProgram:
        compiled = original_program(plan)
        if not torch.compiler.is_exporting():
            return compiled
        return dataclasses.replace(compiled, fft_length=_power_of_two(compiled.fft_length))

    def features(self: LogMelFrontend, padded: torch.Tensor) -> torch.Tensor:
        if not torch.compiler.is_exporting():
            return original_features(self, padded)
        return matmul_dft_features(self, padded)

    with (
        _LOCK,
        _patched(spectral, "batched_einsum", batched_einsum),
        _patched(execute, "_program", program),
        _patched(LogMelFrontend, "features", features),
    ):
        yield


ONNX_REWRITES: tuple[str, ...] = (
    "complex x complex einsums (kernel spectrum times signal spectrum) written as four real einsums:"
    " ONNX has no complex einsum",
    "every SSM FFT padded to the next power of two >= 2L (exact for a causal convolution): onnxruntime's float32"
    " DFT is accurate only for power-of-two lengths",
    "the log-mel frontend's per-frame DFT (window points, not a power of two) as a matmul with cos/sin tables:"
    " onnxruntime's float32 DFT at 400 points cost up to 4e-4 of the output scale",
)
