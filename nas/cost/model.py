"""Training FLOPs and peak training memory of a whole network, from its spec and the layers' plans.

Nothing is instantiated: the network's layout (``centaurus.networks.network_layout``) lists every
operation with its sizes, and each SSM layer's cost is read from the very contraction plan the
layer executes (``centaurus.planning.choose_plan``, cached per shape). Everything else (1x1
mixers, resampling, norms, activations, heads, kernel generation) is counted here.

Conventions (see DESIGN.md):

* FLOPs of a training step = forward + backward. Contraction FLOPs are matmul-like (2 per real
  multiply-add, 4 for a real weight on a spectrum, 8 between spectra); FFT FLOPs use 2.5 N log2 N
  per real transform; elementwise FLOPs are an estimate (one per element and primitive).
* Saved activations are counted per storage, once, whoever saves it (a tensor saved by two ops
  counts once); parameters are saved by reference and not counted. Whether an SSM layer saves its
  input's storage or a copy of its own depends on the input's memory layout (``nas.cost._layouts``).
* Peak training memory = parameters + gradients + optimizer state + saved activations + the
  largest transient intermediate of any op (workspace).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch

from centaurus.errors import CentaurusConfigError
from centaurus.networks.layout import LayerOp, network_layout, total_stride
from centaurus.networks.protocols import ArchitectureLike
from centaurus.planning import ContractionPlan, choose_plan, fft_flops, time_blocks
from nas.cost._layouts import CONTIGUOUS, input_is_saved_as_is, output_layout

Optimizer = Literal["adamw", "adam", "sgd", "sgd_momentum"]
_OPTIMIZER_STATES: dict[str, int] = {"adamw": 2, "adam": 2, "sgd": 0, "sgd_momentum": 1}
_ELEMENTWISE_FLOPS = {  # (forward, backward) per element, rough but consistent
    "norm": (8, 12),
    "gelu": (8, 12),
    "silu": (4, 6),
    "relu": (1, 1),
    "tanh": (4, 3),
    "add": (1, 0),
    "kernel": (7, 14),
}


@dataclass(frozen=True)
class LayerCost:
    """One row of the per-layer table."""

    name: str
    kind: str
    detail: str
    batch: int
    length: int
    contraction_flops: int
    fft_flops: int
    elementwise_flops: int
    saved_bytes: int
    workspace_bytes: int
    params: int
    plan: ContractionPlan | None = None

    @property
    def train_flops(self) -> int:
        return self.contraction_flops + self.fft_flops + self.elementwise_flops


@dataclass(frozen=True)
class CostReport:
    """Cost of training (and running) one architecture at one batch size and input length."""

    arch_summary: str
    batch: int
    length: int
    dtype: str
    optimizer: str
    contraction_flops: int
    fft_flops: int
    elementwise_flops: int
    params: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    activation_bytes: int
    workspace_bytes: int
    inference_macs_per_second: int
    stream_state_bytes: int
    layers: tuple[LayerCost, ...] = field(repr=False)

    @property
    def train_flops(self) -> int:
        return self.contraction_flops + self.fft_flops + self.elementwise_flops

    @property
    def train_peak_bytes(self) -> int:
        return self.param_bytes + self.grad_bytes + self.optimizer_bytes + self.activation_bytes + self.workspace_bytes

    def objectives(self) -> dict[str, float]:
        """The scalar fields a study can minimise or constrain, by name (the keys are ``COST_OBJECTIVES``)."""
        return {
            "train_flops": float(self.train_flops),
            "contraction_flops": float(self.contraction_flops),
            "fft_flops": float(self.fft_flops),
            "elementwise_flops": float(self.elementwise_flops),
            "train_peak_bytes": float(self.train_peak_bytes),
            "activation_bytes": float(self.activation_bytes),
            "params": float(self.params),
            "inference_macs_per_second": float(self.inference_macs_per_second),
            "stream_state_bytes": float(self.stream_state_bytes),
        }


COST_OBJECTIVES: tuple[str, ...] = (
    "train_flops",
    "contraction_flops",
    "fft_flops",
    "elementwise_flops",
    "train_peak_bytes",
    "activation_bytes",
    "params",
    "inference_macs_per_second",
    "stream_state_bytes",
)
"""Names of the cost fields a study can use as objectives or constraints (see ``CostReport.objectives``)."""


def _itemsize(dtype: torch.dtype) -> int:
    if dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        raise CentaurusConfigError(f"dtype: got {dtype}; allowed: float32, float64, float16, bfloat16")
    return torch.empty((), dtype=dtype).element_size()


class _Ledger:
    """Saved storages by key, each counted once."""

    def __init__(self) -> None:
        self.saved: dict[str, int] = {}

    def save(self, key: str, nbytes: int) -> int:
        """Record a save; return the bytes it adds (0 if that storage is already saved)."""
        if key in self.saved:
            return 0
        self.saved[key] = nbytes
        return nbytes

    @property
    def total(self) -> int:
        return sum(self.saved.values())


def _ssm_cost(op: LayerOp, item: int, ledger: _Ledger, layout: str) -> LayerCost:
    """An SSM layer whose input is laid out in memory as ``layout`` (see ``nas.cost._layouts``)."""
    sizes = op.size_map
    plan = choose_plan(op.variant, sizes, op.batch, op.length, real_itemsize=item)  # type: ignore[arg-type]
    kernel_elements = op.pole_count * op.length
    saved = 0
    # What the plan saves: its input u, the kernel K, and plan-internal intermediates. u is the
    # storage of whoever produced it (and may be saved by others too, e.g. a skip projection),
    # unless a time-domain einsum has to copy it to lay it out for bmm: then the copy is the layer's.
    (source,) = op.inputs
    u_key = source if input_is_saved_as_is(plan, layout) else f"{op.name}:u"
    u_bytes = op.batch * op.in_channels * op.length * item
    kernel_bytes = kernel_elements * item
    plan_saved = plan.saved_bytes
    for leaf, nbytes, key in (("u", u_bytes, u_key), ("K", kernel_bytes, f"{op.name}:kernel")):
        if leaf in plan.saved_tensors:
            plan_saved -= nbytes
            saved += ledger.save(key, nbytes)
    # The rest of the plan's saves, kernel generation's pole-sized tensors included.
    saved += ledger.save(f"{op.name}:plan", plan_saved)
    forward, backward = _ELEMENTWISE_FLOPS["kernel"]
    blocks, block = time_blocks(op.length)
    factor_elements = op.pole_count * 2 * (blocks + block)  # the factored kernel's tables (centaurus.planning)
    params = 2 * op.pole_count + op.dt_count + op.weight_count
    return LayerCost(
        op.name,
        "ssm",
        f"{op.variant} " + " ".join(f"{k}={v}" for k, v in sorted(sizes.items())),
        op.batch,
        op.length,
        plan.contraction_flops,
        plan.fft_flops,
        (forward + backward) * factor_elements,
        saved,
        max(plan.largest_intermediate_bytes, 2 * _kernel_output_bytes(plan)),  # kernel backward's transients
        params,
        plan,
    )


def _kernel_output_bytes(plan: ContractionPlan) -> int:
    """The largest output of the plan's factored kernel steps (its gradient is padded to blocks once)."""
    return max((step.output.nbytes for step in plan.steps if step.kernel is not None), default=0)


def _matmul_cost(op: LayerOp, item: int, ledger: _Ledger) -> LayerCost:
    """1x1 mixers, kernel=stride resampling and linear heads: a matmul per op."""
    if op.kind == "upsample":
        macs = op.batch * op.in_channels * op.out_channels * op.stride * op.length
        weights = op.in_channels * op.out_channels * op.stride
    elif op.kind == "downsample":
        macs = op.batch * op.in_channels * op.out_channels * op.length
        weights = op.in_channels * op.out_channels * op.stride
    else:  # conv1x1, linear
        macs = op.batch * op.in_channels * op.out_channels * op.length
        weights = op.in_channels * op.out_channels
    gradients = 2 if op.input_requires_grad else 1  # grad weight always, grad input unless a leaf input
    (source,) = op.inputs
    input_bytes = op.batch * op.in_channels * op.length * item
    saved = ledger.save(source, input_bytes)
    out_length = op.length * op.stride if op.kind == "upsample" else op.length // max(1, op.stride)
    output_bytes = op.batch * op.out_channels * out_length * item
    bias_grad = op.batch * op.out_channels * out_length
    return LayerCost(
        op.name, op.kind, f"{op.in_channels}->{op.out_channels}" + (f" /{op.stride}" if op.stride > 1 else ""),
        op.batch, op.length, 2 * macs * (1 + gradients), 0, bias_grad, saved, output_bytes,
        weights + op.out_channels,
    )  # fmt: skip


def _frontend_cost(op: LayerOp, item: int) -> LayerCost:
    """A log-mel frontend: forward only (no parameters, and it reads the leaf input), nothing saved.

    One real FFT of ``window`` points per frame and channel, the mel filterbank matmul; elementwise:
    windowing (1 per sample of a frame), power (3 per bin), floor and log (2 per band) and the
    normalisation's forward.
    """
    sizes = op.size_map
    rows = op.batch * op.in_channels * (op.length // op.stride)  # frames of every channel
    bins, mels, window = sizes["bins"], sizes["mels"], sizes["window"]
    elementwise = rows * (window + 3 * bins + (2 + _ELEMENTWISE_FLOPS["norm"][0]) * mels)
    frames_bytes = rows * window * item  # the windowed frames, then a spectrum of about the same size
    return LayerCost(op.name, "frontend", f"{op.variant} {mels} /{op.stride}", op.batch, op.length,
                     2 * rows * bins * mels, round(fft_flops(window, rows, "r2c")), elementwise, 0,
                     frames_bytes + rows * 2 * bins * item, 0)  # fmt: skip


def _elementwise_cost(op: LayerOp, item: int, ledger: _Ledger) -> LayerCost:
    elements = op.batch * op.in_channels * op.length
    nbytes = elements * item
    saved, params = 0, 0
    key = op.variant if op.kind in ("norm", "activation") else op.kind
    if op.kind == "norm" or op.kind == "head_norm":
        (source,) = op.inputs
        saved += ledger.save(source, nbytes)
        if op.kind == "head_norm" or op.variant == "layer":
            saved += ledger.save(f"{op.name}:stats", 2 * op.batch * op.length * 4)  # mean, rstd in float32
        else:
            saved += ledger.save(f"{op.name}:stats", 2 * op.in_channels * 4)
        params = 2 * op.in_channels
        key = "norm"
    elif op.kind == "activation":
        (source,) = op.inputs
        # gelu and silu keep their input; relu and tanh keep their output
        saved += ledger.save(source if op.variant in ("gelu", "silu") else op.name, nbytes)
    forward, backward = _ELEMENTWISE_FLOPS.get(key, (1, 0))
    if op.kind == "pool":
        forward, backward = 1, 1
    return LayerCost(op.name, op.kind, op.variant, op.batch, op.length, 0, 0, (forward + backward) * elements,
                     saved, nbytes, params)  # fmt: skip


def _inference_macs_per_second(arch: ArchitectureLike, item: int) -> int:
    """Forward multiply-adds of one second of audio at batch 1 (FFT FLOPs counted as FLOPs/2)."""
    rate = arch.input.sample_rate
    stride = total_stride(arch)
    seconds_length = max(stride, (rate // stride) * stride)
    total = 0.0
    for op in network_layout(arch, 1, seconds_length):
        if op.kind == "frontend":
            row = _frontend_cost(op, item)
            total += (row.contraction_flops + row.fft_flops) / 2
        elif op.kind == "ssm":
            plan = choose_plan(op.variant, op.size_map, 1, op.length, real_itemsize=item)  # type: ignore[arg-type]
            total += plan.forward_flops / 2
        elif op.kind in ("conv1x1", "linear", "downsample"):
            total += op.batch * op.in_channels * op.out_channels * op.length
        elif op.kind == "upsample":
            total += op.batch * op.in_channels * op.out_channels * op.stride * op.length
    return round(total * rate / seconds_length)


def score(
    arch: ArchitectureLike,
    batch: int,
    length: int | None = None,
    dtype: torch.dtype = torch.float32,
    optimizer: Optimizer = "adamw",
) -> CostReport:
    """Training cost of ``arch`` at ``batch`` x ``length`` samples (default: the spec's length)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CentaurusConfigError(f"batch: got {batch!r}; allowed: a positive integer")
    if optimizer not in _OPTIMIZER_STATES:
        raise CentaurusConfigError(f"optimizer: got {optimizer!r}; allowed: {', '.join(_OPTIMIZER_STATES)}")
    item = _itemsize(dtype)
    layout = network_layout(arch, batch, length)
    ledger = _Ledger()
    rows: list[LayerCost] = []
    memory_layouts = {"input": CONTIGUOUS}  # memory order of each op's output, by op name
    for op in layout:
        if op.kind == "frontend":
            row = _frontend_cost(op, item)
        elif op.kind == "ssm":
            row = _ssm_cost(op, item, ledger, memory_layouts[op.inputs[0]])
        elif op.kind in ("conv1x1", "downsample", "upsample", "linear"):
            row = _matmul_cost(op, item, ledger)
        else:
            row = _elementwise_cost(op, item, ledger)
        memory_layouts[op.name] = output_layout(op, memory_layouts, row.plan)
        rows.append(row)
    params = sum(row.params for row in rows)
    state_complex_bytes = 2 * item
    stream_state = sum(op.pole_count for op in layout if op.kind == "ssm") * state_complex_bytes
    stream_state += sum(  # a frontend carries the samples its next frames still read
        op.in_channels * (op.size_map["window"] - op.stride) * item for op in layout if op.kind == "frontend"
    )
    return CostReport(
        arch_summary=arch.summary() if hasattr(arch, "summary") else "",
        batch=batch,
        length=layout[0].length,
        dtype=str(dtype).removeprefix("torch."),
        optimizer=optimizer,
        contraction_flops=sum(row.contraction_flops for row in rows),
        fft_flops=sum(row.fft_flops for row in rows),
        elementwise_flops=sum(row.elementwise_flops for row in rows),
        params=params,
        param_bytes=params * item,
        grad_bytes=params * item,
        optimizer_bytes=params * item * _OPTIMIZER_STATES[optimizer],
        activation_bytes=ledger.total,
        workspace_bytes=max(row.workspace_bytes for row in rows),
        inference_macs_per_second=_inference_macs_per_second(arch, item),
        stream_state_bytes=stream_state,
        layers=tuple(rows),
    )
