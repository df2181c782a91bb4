"""Contraction plans as plain, inspectable data.

A plan is what an SSM layer executes for one input shape and what the cost model reads: its steps
in execution order, the einsum of each, FLOPs per step (forward, backward and the forward work a
``recompute`` policy redoes in backward), every intermediate's shape and bytes, and the FFT sizes.
Nothing here touches torch tensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from centaurus.planning.kernel import KernelContraction

StepKind = Literal["kernel", "contract", "rfft", "irfft"]
Domain = Literal["weights", "time", "freq"]
SpectraPolicy = Literal["recompute", "store"]
SPECTRA_POLICIES: tuple[SpectraPolicy, ...] = ("recompute", "store")
SpectraChoice = Literal["auto", "recompute", "store"]
SPECTRA_CHOICES: tuple[SpectraChoice, ...] = ("auto", *SPECTRA_POLICIES)


@dataclass(frozen=True)
class TensorSpec:
    """Name, indices (``l`` in time, ``f`` in frequency), shape and element type of one tensor."""

    name: str
    indices: str
    shape: tuple[int, ...]
    is_complex: bool
    real_itemsize: int

    @cached_property  # specs are shared by all of a shape's candidate plans, which ask millions of times
    def numel(self) -> int:
        return math.prod(self.shape)

    @cached_property
    def nbytes(self) -> int:
        return self.numel * self.real_itemsize * (2 if self.is_complex else 1)


@dataclass(frozen=True)
class PlanStep:
    """One operation of a plan.

    ``contract`` steps are pairwise einsums (``macs`` multiply-adds, each worth 2 FLOPs between
    real tensors, 4 between a real weight and a spectrum — executed on the real view — and 8
    between two spectra). A contract step whose input is the basis kernel ``K`` runs in factored
    form (``kernel`` is its :class:`KernelContraction`; ``macs`` are those of its matrix product);
    a ``kernel`` step materialises ``K`` itself the same way, for plans that transform ``K``.
    ``rfft``/``irfft`` steps transform ``fft_rows`` rows of length ``fft_length``. ``in_segment``
    marks the steps executed by the memory-lean spectral autograd function (from the forward FFTs
    to the inverse FFT).
    """

    kind: StepKind
    equation: str
    inputs: tuple[str, ...]
    output: TensorSpec
    domain: Domain
    macs: int
    forward_flops: int
    backward_flops: int
    recompute_flops: int = 0
    fft_length: int = 0
    fft_rows: int = 0
    in_segment: bool = False
    kernel: KernelContraction | None = None

    @property
    def training_flops(self) -> int:
        return self.forward_flops + self.backward_flops + self.recompute_flops


@dataclass(frozen=True, eq=False)
class ContractionPlan:
    """The full execution plan of one SSM layer for one (batch, length, dtype).

    Plans are cached and compared by identity; ``key`` identifies a plan across processes.

    ``tree`` names the pairwise contraction order; ``u_fft_at``/``k_fft_at`` name the tensors that
    are Fourier transformed (by linearity the FFT may sit on any tensor of the signal or kernel
    branch); ``ifft_at`` names the tensor that is transformed back.
    """

    mode: str
    equation: str
    sizes: Mapping[str, int]
    batch: int
    length: int
    fft_length: int
    tree: str
    u_fft_at: str
    k_fft_at: str
    ifft_at: str
    spectra: SpectraPolicy
    inputs: tuple[TensorSpec, ...]
    steps: tuple[PlanStep, ...]
    saved_bytes: int
    saved_tensors: tuple[str, ...]
    traffic_bytes: int
    extras: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A short identity of the plan, stable across processes (used to force a plan)."""
        return f"{self.tree} | fft {self.u_fft_at},{self.k_fft_at} | ifft {self.ifft_at} | {self.spectra}"

    @property
    def output(self) -> TensorSpec:
        return self.steps[-1].output

    @property
    def forward_flops(self) -> int:
        return sum(step.forward_flops for step in self.steps)

    @property
    def backward_flops(self) -> int:
        return sum(step.backward_flops + step.recompute_flops for step in self.steps)

    @property
    def training_flops(self) -> int:
        return self.forward_flops + self.backward_flops

    @property
    def contraction_flops(self) -> int:
        return sum(step.training_flops for step in self.steps if step.kind in ("contract", "kernel"))

    @property
    def fft_flops(self) -> int:
        return sum(step.training_flops for step in self.steps if step.kind in ("rfft", "irfft"))

    @property
    def largest_intermediate_bytes(self) -> int:
        return max(step.output.nbytes for step in self.steps)

    @property
    def fft_sizes(self) -> tuple[tuple[str, int, int], ...]:
        """``(tensor, rows, length)`` of every forward FFT of the plan."""
        return tuple(
            (step.inputs[0], step.fft_rows, step.fft_length) for step in self.steps if step.kind in ("rfft", "irfft")
        )

    @cached_property
    def cost_features(self) -> dict[str, float]:
        """Training-step work by kind, for the planner's time model.

        ``real``/``view``/``complex``: FLOPs of pairwise contractions between real tensors, of a
        real weight with a spectrum (on its real view) and between two spectra; ``rfft``/``irfft``:
        FLOPs of forward and inverse transforms (the adjoint of one is the other); ``bytes``: memory
        traffic; ``steps``: operations launched (fixed overhead each).
        """
        features = dict.fromkeys(("real", "view", "complex", "rfft", "irfft", "bytes", "steps"), 0.0)
        for step in self.steps:
            if step.kind in ("contract", "kernel"):
                spectra = sum(name.endswith("^") for name in step.inputs)
                features[("real", "view", "complex")[spectra]] += step.training_flops
            elif step.kind == "rfft":
                features["rfft"] += step.forward_flops + step.recompute_flops
                features["irfft"] += step.backward_flops
            else:
                features["irfft"] += step.forward_flops
                features["rfft"] += step.backward_flops
        features["bytes"] = float(self.traffic_bytes)
        features["steps"] = float(len(self.steps))
        return features

    def describe(self) -> str:
        """A human-readable table of the plan's steps and totals."""
        lines = [
            f"{self.mode}: {self.equation}  (b={self.batch}, L={self.length}, FFT length {self.fft_length})",
            f"tree {self.tree}; FFT on {self.u_fft_at} and {self.k_fft_at}; inverse FFT on {self.ifft_at};"
            f" spectra {self.spectra}" + (f" ({self.extras['policy']})" if "policy" in self.extras else ""),
            f"{'step':<9}{'einsum':<28}{'output shape':<26}{'MiB':>9}{'train GFLOP':>13}",
        ]
        for step in self.steps:
            shape = "x".join(str(size) for size in step.output.shape)
            lines.append(
                f"{step.kind:<9}{step.equation:<28}{shape:<26}{step.output.nbytes / 2**20:>9.2f}"
                f"{step.training_flops / 1e9:>13.4f}"
            )
        lines.append(
            f"total training {self.training_flops / 1e9:.4f} GFLOP (contraction"
            f" {self.contraction_flops / 1e9:.4f}, FFT {self.fft_flops / 1e9:.4f});"
            f" largest intermediate {self.largest_intermediate_bytes / 2**20:.2f} MiB;"
            f" saved for backward {self.saved_bytes / 2**20:.2f} MiB"
        )
        return "\n".join(lines)
