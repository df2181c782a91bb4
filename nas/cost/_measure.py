"""Independent measurement of one training step: the truth the analytic cost model is tested against.

The cost model predicts a network's training FLOPs and activation memory from its layers'
contraction plans. To test it, this module runs one forward and one backward pass and observes
what torch actually does, through mechanisms that know nothing of the plans:

* **Matmul FLOPs** come from ``torch.utils.flop_counter.FlopCounterMode``. It counts only
  matmul-like ops (``mm``, ``addmm``, ``bmm``, ``baddbmm``, convolutions, attention) and their
  backward, at ``2 * m * n * k`` per product, from shapes alone. Consequences for our layers,
  checked in ``tests/nas/cost/test_measure.py``:

  - a *complex* ``bmm`` (and so a complex ``einsum``, which lowers to ``bmm``) is counted exactly
    like a real one, ``2 * m * n * k``, although it costs 8 real FLOPs per complex multiply-add,
    i.e. four times that; a real weight promoted to complex and multiplied into a spectrum is
    counted at a quarter of its real cost in the same way;
  - an ``einsum`` on ``torch.view_as_real`` views (how the spectral segment multiplies a real
    weight into a spectrum) is a real ``bmm`` with the (re, im) axis as an extra batch or free
    index, so it is counted correctly: 4 FLOPs per complex-by-real multiply-add;
  - element-wise products (a spectrum times a spectrum, ``bnf,nf->bnf``, which einsum runs as
    ``mul``) are not counted at all, real or complex;
  - FFTs are not counted (unless a ``custom_mapping`` is given); this module records them itself.

* **FFTs** are recorded by :class:`FFTRecorder`, a ``TorchDispatchMode`` that sees every
  ``aten._fft_r2c`` / ``aten._fft_c2r`` / ``aten._fft_c2c`` call below autograd, so the FFTs of
  backward formulas and of custom ``autograd.Function`` backwards are seen too. Each call is
  priced with the DESIGN's convention: ``2.5 N log2 N`` per row for a real transform (r2c, c2r)
  and ``5 N log2 N`` for a complex one, N being the signal length (the product of the transformed
  lengths for a multi-dimensional transform, which is what its separable cost adds up to).

* **Saved bytes** come from ``torch.autograd.graph.saved_tensors_hooks`` around the model's
  forward: every tensor autograd packs for backward is reported, and each distinct storage is
  counted once at its full size. Parameters and buffers are excluded (autograd keeps a reference
  to persistent state, not a copy). Storages that die before the forward ends (a discarded
  branch) are not counted: what is reported is what is held for backward when backward starts.

* **Peak memory** is the CUDA allocator's ``max_memory_allocated`` above what was allocated when
  the step began; on CPU (and with fake tensors) it is ``torch.distributed._tools.mem_tracker.
  MemTracker``'s peak of live tensor storages above the same baseline. MemTracker sums tensor
  storages only: allocator rounding, fragmentation and library scratch space (e.g. pocketfft's
  work buffers) are invisible to it.

With ``fake=True`` the step runs under ``FakeTensorMode``: parameters, buffers and the input are
replaced by fake tensors (shapes, dtypes and strides, no data), so FLOPs, FFTs, saved bytes and
MemTracker's peak are obtained at full size without allocating activation memory.
"""

from __future__ import annotations

import contextlib
import math
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

FFTKind = Literal["r2c", "c2r", "c2c"]
Phase = Literal["forward", "backward"]
PeakMethod = Literal["cuda_allocator", "mem_tracker"]
LossFn = Callable[[torch.Tensor], torch.Tensor]

_aten = torch.ops.aten
_FFT_KINDS: dict[Any, FFTKind] = {
    _aten._fft_r2c: "r2c",
    _aten._fft_c2r: "c2r",
    _aten._fft_c2c: "c2c",
}
# FLOPs per point per log2 N: a real-input (or real-output) FFT costs half a complex one.
_FFT_FLOPS_PER_POINT: dict[FFTKind, float] = {"r2c": 2.5, "c2r": 2.5, "c2c": 5.0}


def fft_flops(kind: FFTKind, rows: int, signal_length: int) -> float:
    """FLOPs of ``rows`` independent FFTs of ``signal_length`` points (DESIGN's convention).

    ``2.5 N log2 N`` per row for r2c and c2r, ``5 N log2 N`` for c2c; a 1-point transform is a
    copy and costs nothing.
    """
    if signal_length <= 1:
        return 0.0
    return rows * _FFT_FLOPS_PER_POINT[kind] * signal_length * math.log2(signal_length)


@dataclass(frozen=True)
class FFTCall:
    """One ``aten._fft_*`` call as the dispatcher saw it.

    ``dims`` are the transformed dimensions of the input, ``lengths`` the signal length along each
    (for c2r the last one is the ``last_dim_size`` argument, since the input holds only N//2+1
    bins), and ``rows`` the number of independent transforms (input elements over transformed
    elements). ``phase`` says whether it ran in the forward pass (loss included) or in backward.
    """

    kind: FFTKind
    phase: Phase
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dims: tuple[int, ...]
    lengths: tuple[int, ...]
    rows: int

    @property
    def signal_length(self) -> int:
        """N: the number of points of each transform (product of ``lengths``)."""
        return math.prod(self.lengths)

    @property
    def flops(self) -> float:
        return fft_flops(self.kind, self.rows, self.signal_length)

    @property
    def signature(self) -> tuple[FFTKind, int, int]:
        """``(kind, rows, N)``: what identifies the call's cost, for comparing multisets."""
        return (self.kind, self.rows, self.signal_length)


def _fft_call(kind: FFTKind, phase: Phase, args: Sequence[Any], output: torch.Tensor) -> FFTCall:
    """Decode an ``aten._fft_*`` call from its schema.

    torch 2.14: ``_fft_r2c(self, dim, normalization, onesided)``, ``_fft_c2r(self, dim,
    normalization, last_dim_size)``, ``_fft_c2c(self, dim, normalization, forward)``.
    """
    source: torch.Tensor = args[0]
    dims = tuple(int(dim) % source.dim() for dim in args[1])
    lengths = [int(source.shape[dim]) for dim in dims]
    if kind == "c2r":
        lengths[-1] = int(args[3])
    transformed = math.prod(int(source.shape[dim]) for dim in dims)
    rows = source.numel() // transformed if transformed else 0
    return FFTCall(
        kind=kind,
        phase=phase,
        input_shape=tuple(int(size) for size in source.shape),
        output_shape=tuple(int(size) for size in output.shape),
        dims=dims,
        lengths=tuple(lengths),
        rows=int(rows),
    )


class FFTRecorder(TorchDispatchMode):
    """A dispatch mode that records every FFT executed while it is active and passes it through.

    It sits below autograd, so it sees the FFTs of backward formulas as well as those a custom
    ``autograd.Function`` runs by hand. Set :attr:`phase` to label the calls that follow. It can be
    stacked with ``FlopCounterMode`` in either order (neither changes the ops the other sees: the
    FFT ops have no decomposition for the flop counter to apply) and with ``FakeTensorMode``, which
    torch always keeps at the bottom of the mode stack.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[FFTCall] = []
        self.phase: Phase = "forward"

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        output = func(*args, **(kwargs or {}))
        kind = _FFT_KINDS.get(func.overloadpacket)
        if kind is not None:
            self.calls.append(_fft_call(kind, self.phase, args, output))
        return output


# ------------------------------------------------------------------------------- saved tensors
_StorageKey = tuple[str, Any]


def _storage_key(tensor: torch.Tensor) -> _StorageKey:
    """Identity of a tensor's storage.

    Real tensors are keyed by device and data pointer (two live storages cannot share one);
    fake tensors all report data pointer 0, so they (and empty storages) are keyed by the
    address of their StorageImpl instead.
    """
    storage = tensor.untyped_storage()
    if isinstance(tensor, FakeTensor) or storage.nbytes() == 0:
        return ("impl", storage._cdata)
    return ("ptr", (str(storage.device), storage.data_ptr()))


class _SavedTensorLedger:
    """The pack hook of ``saved_tensors_hooks``: notes each distinct storage autograd saves.

    Storages are held weakly, so the ledger neither keeps a discarded branch alive nor inflates
    the peak it is measured alongside; :meth:`live` reports those still alive.
    """

    def __init__(self, excluded: set[_StorageKey]) -> None:
        self.excluded = excluded
        self.tensor_count = 0
        self._storages: dict[_StorageKey, tuple[int, weakref.ref[torch.UntypedStorage]]] = {}

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        if isinstance(tensor, nn.Parameter):
            return tensor
        key = _storage_key(tensor)
        if key in self.excluded:
            return tensor
        self.tensor_count += 1
        storage = tensor.untyped_storage()
        self._storages[key] = (storage.nbytes(), weakref.ref(storage))
        return tensor

    def live(self) -> dict[_StorageKey, int]:
        """Bytes of every saved storage still alive, by storage key."""
        return {key: nbytes for key, (nbytes, ref) in self._storages.items() if ref() is not None}


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class StepMeasurement:
    """What one training step (forward, loss, backward) really cost.

    ``matmul_flops`` is FlopCounterMode's total over the whole step (``forward_matmul_flops`` the
    part counted before backward started); ``fft_flops`` prices ``fft_calls`` by DESIGN's
    convention. ``saved_bytes`` is what the model's forward saves for backward (distinct storages,
    persistent state excluded), ``saved_tensor_count`` the number of tensors packed for it and
    ``saved_storage_count`` the number of distinct storages among them; ``loss_saved_bytes`` is
    what the loss adds on top (kept apart because the cost model prices the network, not the
    task's loss). ``peak_bytes`` is the peak memory above the step's starting point, measured by
    ``peak_method`` (None when unavailable). Timings are wall clock, for information only (with
    ``fake`` they time the fake run, not the real computation).
    """

    matmul_flops: int
    forward_matmul_flops: int
    fft_calls: tuple[FFTCall, ...]
    fft_flops: int
    saved_bytes: int
    saved_tensor_count: int
    saved_storage_count: int
    loss_saved_bytes: int
    peak_bytes: int | None
    peak_method: PeakMethod | None
    forward_seconds: float
    backward_seconds: float
    fake: bool

    @property
    def backward_matmul_flops(self) -> int:
        return self.matmul_flops - self.forward_matmul_flops

    @property
    def training_flops(self) -> int:
        """Matmul and FFT FLOPs of the step (element-wise work is not counted)."""
        return self.matmul_flops + self.fft_flops

    def fft_signatures(self, phase: Phase | None = None) -> Counter[tuple[FFTKind, int, int]]:
        """The multiset of ``(kind, rows, N)`` of the FFT calls (of one phase, or all)."""
        return Counter(call.signature for call in self.fft_calls if phase is None or call.phase == phase)


def default_loss(output: torch.Tensor) -> torch.Tensor:
    """``mean(output²)`` in float32: touches every output element, so every gradient path runs."""
    return output.float().square().mean()


# ------------------------------------------------------------------------------- peak probes
class _PeakProbe:
    """Peak memory above the level at :meth:`start`; ``None`` when no method applies."""

    method: PeakMethod | None = None

    def start(self) -> None:
        """Mark the baseline (called with every tensor the step starts from already allocated)."""

    def peak(self) -> int | None:
        return None


class _CudaAllocatorProbe(_PeakProbe):
    """The CUDA caching allocator's own accounting: the ground truth of device memory."""

    method: PeakMethod | None = "cuda_allocator"

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline = 0

    def start(self) -> None:
        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self.baseline = torch.cuda.memory_allocated(self.device)

    def peak(self) -> int | None:
        torch.cuda.synchronize(self.device)
        return torch.cuda.max_memory_allocated(self.device) - self.baseline


class _MemTrackerProbe(_PeakProbe):
    """MemTracker's sum of live tensor storages (works on CPU and under FakeTensorMode)."""

    method: PeakMethod | None = "mem_tracker"

    def __init__(self, tracker: Any, device: torch.device) -> None:
        self.tracker = tracker
        self.device = device
        self.baseline = 0

    def _total(self, kind: str) -> int:
        snapshot = self.tracker.get_tracker_snapshot(kind)
        return int(snapshot.get(self.device, {}).get("Total", 0))

    def start(self) -> None:
        self.baseline = self._total("current")

    def peak(self) -> int | None:
        return max(self._total("peak") - self.baseline, 0)


@contextlib.contextmanager
def _peak_probe(
    device: torch.device, use_allocator: bool, track: bool, tracked: Iterable[nn.Module | torch.Tensor]
) -> Iterator[_PeakProbe]:
    """The best available peak-memory probe for ``device``, active for the ``with`` block."""
    if not track:
        yield _PeakProbe()
        return
    if use_allocator and device.type == "cuda":
        yield _CudaAllocatorProbe(device)
        return
    # Imported lazily: it pulls in torch.distributed, which a build of torch may lack.
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    tracker.track_external(*tracked)
    with tracker:
        yield _MemTrackerProbe(tracker, device)


# ------------------------------------------------------------------------------ state isolation
@contextlib.contextmanager
def _isolated_state(model: nn.Module, inputs: torch.Tensor) -> Iterator[None]:
    """Run the step from cleared gradients and put gradients and buffers back afterwards.

    A measurement must not perturb training: gradients would otherwise accumulate into ``.grad``
    and batch norm would update its running statistics. Starting from ``grad = None`` is also what
    a training step after ``zero_grad(set_to_none=True)`` sees, so the gradients' memory counts.
    """
    leaves: list[torch.Tensor] = [*model.parameters(), inputs]
    grads = [leaf.grad for leaf in leaves]
    buffers = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    for leaf in leaves:
        leaf.grad = None
    try:
        yield
    finally:
        for leaf, grad in zip(leaves, grads, strict=True):
            leaf.grad = grad
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)


# ---------------------------------------------------------------------------------- the step
def _synchronize(device: torch.device, fake: bool) -> None:
    if device.type == "cuda" and not fake:
        torch.cuda.synchronize(device)


def _run_step(
    forward: Callable[[], torch.Tensor],
    loss: LossFn,
    *,
    persistent: Iterable[torch.Tensor],
    inputs: torch.Tensor,
    count_input: bool,
    device: torch.device,
    fake: bool,
    track_peak: bool,
    tracked: Iterable[nn.Module | torch.Tensor],
) -> StepMeasurement:
    excluded = {_storage_key(tensor) for tensor in persistent}
    if not count_input:
        excluded.add(_storage_key(inputs))
    model_ledger = _SavedTensorLedger(excluded)
    recorder = FFTRecorder()
    with contextlib.ExitStack() as stack:
        probe = stack.enter_context(_peak_probe(device, not fake, track_peak, tracked))
        counter = stack.enter_context(FlopCounterMode(display=False))
        stack.enter_context(recorder)
        probe.start()
        started = time.perf_counter()
        with torch.autograd.graph.saved_tensors_hooks(model_ledger.pack, _unpack):
            output = forward()
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"model output: got {type(output).__name__}; allowed: a single torch.Tensor")
        model_saved = model_ledger.live()
        loss_ledger = _SavedTensorLedger(excluded | model_saved.keys())
        with torch.autograd.graph.saved_tensors_hooks(loss_ledger.pack, _unpack):
            value = loss(output)
        loss_saved = loss_ledger.live()  # now: backward frees what autograd saved
        del output  # autograd keeps what it needs; holding more would distort the peak
        _synchronize(device, fake)
        forward_seconds = time.perf_counter() - started
        forward_matmul_flops = counter.get_total_flops()
        recorder.phase = "backward"
        started = time.perf_counter()
        value.backward()
        _synchronize(device, fake)
        backward_seconds = time.perf_counter() - started
        del value
        matmul_flops = counter.get_total_flops()
        peak = probe.peak()
        method = probe.method if peak is not None else None
    calls = tuple(recorder.calls)
    return StepMeasurement(
        matmul_flops=int(matmul_flops),
        forward_matmul_flops=int(forward_matmul_flops),
        fft_calls=calls,
        fft_flops=round(sum(call.flops for call in calls)),
        saved_bytes=sum(model_saved.values()),
        saved_tensor_count=model_ledger.tensor_count,
        saved_storage_count=len(model_saved),
        loss_saved_bytes=sum(loss_saved.values()),
        peak_bytes=peak,
        peak_method=method,
        forward_seconds=forward_seconds,
        backward_seconds=backward_seconds,
        fake=fake,
    )


def _model_device(model: nn.Module, default: torch.device) -> torch.device:
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return default


def measure_training_step(
    model: nn.Module,
    inputs: torch.Tensor,
    loss: LossFn | None = None,
    *,
    count_input: bool = True,
    fake: bool = False,
    track_peak: bool = True,
) -> StepMeasurement:
    """Run one forward + backward of ``model`` on ``inputs`` and measure what it cost.

    ``loss`` maps the model's output to a scalar (default :func:`default_loss`). The step runs on
    whatever device the model and ``inputs`` are on, in the model's current train/eval mode;
    gradients and buffers (batch-norm statistics) are restored afterwards. ``count_input=False``
    leaves the input's storage out of ``saved_bytes`` (by default it counts when autograd saves
    it, as it then stays alive for backward). ``track_peak=False`` skips peak memory (MemTracker
    slows a CPU step down).

    With ``fake=True`` nothing is computed: parameters and buffers are converted to fake tensors
    and the module is run through ``torch.func.functional_call`` under ``FakeTensorMode``, so the
    model itself is untouched. ``inputs`` then only supplies shape, dtype, device and
    ``requires_grad``; pass a ``device="meta"`` tensor to describe a full-size batch without
    allocating it (it is placed on the model's device). Modules that keep tensors outside their
    parameters and buffers cannot be faked this way.
    """
    loss_fn = loss if loss is not None else default_loss
    if fake:
        return _measure_fake(model, inputs, loss_fn, count_input=count_input, track_peak=track_peak)
    device = inputs.device
    with _isolated_state(model, inputs):
        return _run_step(
            lambda: model(inputs),
            loss_fn,
            persistent=[*model.parameters(), *model.buffers()],
            inputs=inputs,
            count_input=count_input,
            device=device,
            fake=False,
            track_peak=track_peak,
            tracked=[model, inputs],
        )


def _measure_fake(
    model: nn.Module, inputs: torch.Tensor, loss: LossFn, *, count_input: bool, track_peak: bool
) -> StepMeasurement:
    mode = FakeTensorMode()
    # from_tensor memoises per tensor, so tied parameters stay tied; a Parameter stays a leaf
    # Parameter with its requires_grad.
    parameters = {name: mode.from_tensor(p) for name, p in model.named_parameters(remove_duplicate=False)}
    buffers = {name: mode.from_tensor(b) for name, b in model.named_buffers(remove_duplicate=False)}
    if inputs.device.type == "meta":
        device = _model_device(model, torch.device("cpu"))
        with mode:
            fake_inputs = torch.empty(inputs.shape, dtype=inputs.dtype, device=device)
    else:
        device = inputs.device
        fake_inputs = mode.from_tensor(inputs.detach())
    fake_inputs.requires_grad_(inputs.requires_grad)
    state: dict[str, torch.Tensor] = {**parameters, **buffers}
    persistent = [*parameters.values(), *buffers.values()]
    with mode:
        return _run_step(
            lambda: functional_call(model, state, (fake_inputs,)),
            loss,
            persistent=persistent,
            inputs=fake_inputs,
            count_input=count_input,
            device=device,
            fake=True,
            track_peak=track_peak,
            tracked=[*persistent, fake_inputs],
        )
