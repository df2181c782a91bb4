"""The measurement tools against independent truths: hand-counted FLOPs, FFTs and saved bytes.

These numbers are what the cost model is later tested against, so each is first checked on a
graph small enough to count by hand, then on real SSM layers against their contraction plans,
whose FFT steps and saved bytes were derived independently of torch's dispatcher.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack
from torch.utils.flop_counter import FlopCounterMode

from centaurus import ContractionPlan, SSMLayer
from centaurus.networks import build
from centaurus.networks._blocks import ssm_layers
from nas.cost import FFTRecorder, StepMeasurement, fft_flops, measure_training_step
from nas.cost.conventions import plan_flop_counter_flops
from search_spaces import builtin_space

# Tiny layers of every mode, with unequal axes so a transposed shape cannot pass by accident.
LAYER_ARGS: dict[str, dict[str, int]] = {
    "dws": dict(in_channels=3, out_channels=5, num_states=4),
    "s5": dict(in_channels=3, out_channels=5, num_states=4, state_blocks=2),
    "neck": dict(in_channels=3, out_channels=5, num_states=4, bottleneck=2),
    "full": dict(in_channels=3, out_channels=5, num_states=4),
    "group": dict(in_channels=4, out_channels=6, num_states=3, groups=2),
}
# (mode, layer arguments): the tiny layers above, plus SSMLayer(8, 8, 16, "s5"), whose plan
# transforms u and K directly and runs every contraction in frequency.
LAYER_CASES = [(mode, args) for mode, args in LAYER_ARGS.items()] + [
    ("s5", dict(in_channels=8, out_channels=8, num_states=16)),
]
LAYER_IDS = [*LAYER_ARGS, "s5-8x8x16"]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _flops(run: Callable[[], object]) -> dict[str, int]:
    with FlopCounterMode(display=False) as counter:
        run()
    return {str(op): count for op, count in counter.get_flop_counts().get("Global", {}).items()}


# ----------------------------------------------------------------------------- matmul FLOPs
def test_linear_counts_forward_and_both_backward_matmuls() -> None:
    """Forward is one ``addmm`` (2·16·64·32); backward is two ``mm``: grad input = grad_out @ W
    (16x32 by 32x64) and grad weight = grad_outᵀ @ x (32x16 by 16x64), each 2·16·64·32 again.
    The bias gradient is a sum, which FlopCounterMode does not count."""
    torch.manual_seed(0)
    linear = nn.Linear(64, 32)
    one = 2 * 16 * 64 * 32
    measured = measure_training_step(linear, torch.randn(16, 64, requires_grad=True))
    assert measured.matmul_flops == 3 * one
    assert measured.forward_matmul_flops == one
    assert measured.backward_matmul_flops == 2 * one
    assert measured.fft_calls == () and measured.fft_flops == 0
    # Without an input gradient the grad-input mm is skipped.
    assert measure_training_step(linear, torch.randn(16, 64)).matmul_flops == 2 * one


def test_flop_counter_counts_complex_matmuls_like_real_ones() -> None:
    """What FlopCounterMode does with the products our spectral code runs (documented in measure.py).

    * complex bmm / complex einsum: ``2·b·m·n·k``, as for real — a quarter of the 8 real FLOPs
      per complex multiply-add they really cost;
    * einsum of a real weight with ``view_as_real`` of a spectrum: a real bmm whose (re, im) axis
      is an extra free index, so ``2·2`` FLOPs per complex-by-real multiply-add, the true count;
    * element-wise products (real or complex) and FFTs: not counted.
    """
    a = torch.randn(4, 8, 16, dtype=torch.cfloat)
    b = torch.randn(4, 16, 32, dtype=torch.cfloat)
    real_rule = 2 * 4 * 8 * 32 * 16
    assert _flops(lambda: torch.bmm(a, b)) == {"aten.bmm": real_rule}
    assert _flops(lambda: torch.einsum("bmk,bkn->bmn", a, b)) == {"aten.bmm": real_rule}

    weight = torch.randn(8, 16)
    spectrum = torch.randn(4, 16, 100, dtype=torch.cfloat)
    macs = 4 * 8 * 16 * 100  # complex-by-real multiply-adds of nc,bcf->bnf
    on_real_view = _flops(lambda: torch.einsum("nc,bcfz->bnfz", weight, torch.view_as_real(spectrum)))
    assert on_real_view == {"aten.bmm": 4 * macs}
    promoted = _flops(lambda: torch.einsum("nc,bcf->bnf", weight.to(torch.cfloat), spectrum))
    assert promoted == {"aten.bmm": 2 * macs}

    assert _flops(lambda: spectrum * spectrum) == {}
    assert _flops(lambda: torch.fft.rfft(torch.randn(4, 64))) == {}


# --------------------------------------------------------------------------------- FFT calls
class _FFTRoundTrip(nn.Module):
    """``irfft(rfft(x, n) · w, n)[..., :L]``: the causal-convolution skeleton, with a weight so
    that a parameter sits in the graph."""

    def __init__(self, fft_length: int) -> None:
        super().__init__()
        self.fft_length = fft_length
        self.scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.rfft(x, n=self.fft_length) * self.scale
        return torch.fft.irfft(spectrum, n=self.fft_length)[..., : x.shape[-1]]


@pytest.mark.parametrize("fft_length", [200, 201])
def test_rfft_irfft_record_rows_and_length(fft_length: int) -> None:
    """x (3, 5, 100), N = 2L (and an odd N, which only ``last_dim_size`` can tell apart: both have
    N//2+1 = 101 bins). Forward: r2c and c2r over 15 rows. Backward: the adjoint of irfft is an
    r2c of the output gradient, the adjoint of rfft a c2c of the zero-extended gradient."""
    x = torch.randn(3, 5, 100, requires_grad=True)
    measured = measure_training_step(_FFTRoundTrip(fft_length), x)
    bins = fft_length // 2 + 1
    summary = [(c.kind, c.phase, c.input_shape, c.output_shape, c.dims, c.lengths, c.rows) for c in measured.fft_calls]
    assert summary == [
        ("r2c", "forward", (3, 5, fft_length), (3, 5, bins), (2,), (fft_length,), 15),
        ("c2r", "forward", (3, 5, bins), (3, 5, fft_length), (2,), (fft_length,), 15),
        ("r2c", "backward", (3, 5, fft_length), (3, 5, bins), (2,), (fft_length,), 15),
        ("c2c", "backward", (3, 5, fft_length), (3, 5, fft_length), (2,), (fft_length,), 15),
    ]
    log_n = math.log2(fft_length)
    assert measured.fft_flops == round(15 * fft_length * log_n * (2.5 + 2.5 + 2.5 + 5.0))
    assert measured.matmul_flops == 0


def test_multidimensional_fft_length_is_the_product() -> None:
    """A 2-D r2c over (8, 10) is 3 rows of 80 points; its separable cost adds up to 2.5·80·log2 80."""
    recorder = FFTRecorder()
    with recorder:
        torch.fft.rfft2(torch.randn(3, 8, 10))
    (call,) = recorder.calls
    assert (call.kind, call.dims, call.lengths, call.rows, call.signal_length) == ("r2c", (1, 2), (8, 10), 3, 80)
    assert call.flops == pytest.approx(fft_flops("r2c", 3, 80)) == pytest.approx(3 * 2.5 * 80 * math.log2(80))


# ------------------------------------------------------------------------------ saved bytes
class _ExpTimesWeight(nn.Module):
    """``exp(x) · w``: exp saves its output; mul saves that same output and the parameter w."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x) * self.weight


def test_saved_bytes_of_a_known_graph() -> None:
    x = torch.randn(5, 7, requires_grad=True)
    measured = measure_training_step(_ExpTimesWeight(), x)
    # exp(x) once (exp and mul share its storage); the parameter is excluded; x itself is not saved.
    assert measured.saved_bytes == 5 * 7 * 4
    assert measured.saved_tensor_count == 2  # exp's result, mul's left operand (w excluded)
    assert measured.saved_storage_count == 1
    # The default loss (square) saves the model output: reported apart from the model's bytes.
    assert measured.loss_saved_bytes == 5 * 7 * 4


def test_saved_input_counts_unless_excluded() -> None:
    """``addmm`` saves its input for the weight gradient, and the weight by reference."""
    linear = nn.Linear(64, 32)
    x = torch.randn(16, 64)
    assert measure_training_step(linear, x).saved_bytes == 16 * 64 * 4
    assert measure_training_step(linear, x, count_input=False).saved_bytes == 0


def test_cpu_peak_of_a_known_graph() -> None:
    """exp(x) then sum: at the exp backward, exp's output (saved) and x's new gradient are alive
    together, plus a few 4-byte scalars (the loss and its gradient)."""

    class Exp(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.exp(x)

    numel = 1000
    measured = measure_training_step(Exp(), torch.randn(numel, requires_grad=True), loss=lambda y: y.sum())
    assert measured.peak_method == "mem_tracker"
    assert measured.peak_bytes is not None
    assert 8 * numel <= measured.peak_bytes <= 8 * numel + 64
    untracked = measure_training_step(Exp(), torch.randn(numel, requires_grad=True), track_peak=False)
    assert untracked.peak_bytes is None and untracked.peak_method is None


# ------------------------------------------------------------------------------ housekeeping
def _ssm_layer(mode: str, spectra: str = "recompute", args: dict[str, int] | None = None) -> SSMLayer:
    torch.manual_seed(0)
    return SSMLayer(mode=mode, dtype=torch.float32, spectra=spectra, **(args or LAYER_ARGS[mode]))  # type: ignore[arg-type]


def test_flop_counter_and_recorder_nest_in_either_order() -> None:
    """Both are dispatch modes passing ops through: each sees the same ops whichever is on top."""
    layer = _ssm_layer("s5")
    u = torch.randn(2, 3, 50, requires_grad=True)

    def step() -> None:
        layer(u).square().mean().backward()

    results = []
    for recorder_on_top in (True, False):
        recorder = FFTRecorder()
        counter = FlopCounterMode(display=False)
        outer, inner = (counter, recorder) if recorder_on_top else (recorder, counter)
        with outer, inner:
            step()
        results.append((counter.get_total_flops(), [call.signature for call in recorder.calls]))
    alone = FFTRecorder()
    with alone:
        step()
    assert results[0] == results[1]
    assert results[0][1] == [call.signature for call in alone.calls]
    assert results[0][0] == sum(_flops(step).values()) > 0


class _Boom(RuntimeError):
    pass


def _raise(_: torch.Tensor) -> torch.Tensor:
    raise _Boom("loss failed")


class _FailingForward(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch.fft.rfft(x * self.weight)
        raise _Boom("forward failed")


@pytest.mark.parametrize("fake", [False, True])
@pytest.mark.parametrize("where", ["forward", "loss"])
def test_modes_hooks_and_state_are_restored_when_the_step_raises(where: str, fake: bool) -> None:
    model: nn.Module = _FailingForward() if where == "forward" else nn.Linear(4, 4)
    sentinel = torch.full_like(next(model.parameters()), 7.0)
    next(model.parameters()).grad = sentinel
    resize = torch.UntypedStorage.resize_
    with pytest.raises(_Boom):
        measure_training_step(model, torch.randn(3, 4), loss=_raise if where == "loss" else None, fake=fake)
    assert _get_current_dispatch_mode_stack() == []
    assert torch._C._autograd._top_saved_tensors_default_hooks(False) is None
    assert torch.UntypedStorage.resize_ is resize  # MemTracker patches it while active
    assert next(model.parameters()).grad is sentinel


def test_gradients_and_buffers_are_left_untouched() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    before = {name: buffer.clone() for name, buffer in model.named_buffers()}
    measured = measure_training_step(model, torch.randn(8, 6))
    assert measured.matmul_flops > 0
    for name, buffer in model.named_buffers():
        assert torch.equal(buffer, before[name]), name
    assert all(parameter.grad is None for parameter in model.parameters())


# ------------------------------------------------------------------- SSM layers and their plans
def _fft_rows(plan: ContractionPlan) -> tuple[int, int, int]:
    """Rows of the signal rfft, the kernel rfft and the irfft of the plan's spectral segment.

    The segment transforms first the signal branch, then the kernel branch (see the planner)."""
    signal, kernel = (step.fft_rows for step in plan.steps if step.kind == "rfft")
    (inverse,) = (step.fft_rows for step in plan.steps if step.kind == "irfft")
    return signal, kernel, inverse


def _expected_layer_ffts(
    plan: ContractionPlan, signal_grad: bool = True
) -> tuple[Counter[tuple[str, int, int]], Counter[tuple[str, int, int]]]:
    """The FFT multiset of one training step of a plan's spectral segment, (forward, backward).

    Forward: one r2c per rfft step of the plan (signal rows r_u, kernel rows r_k) and one c2r per
    irfft step (rows r_y), all of N = plan.fft_length points.
    Backward (centaurus/planning/spectral.py, hand-written):
    * the adjoint of the irfft is an rfft of the output gradient: r2c, r_y rows;
    * the adjoint of each forward rfft is an irfft: c2r, r_u rows (only if the signal needs a
      gradient) and r_k rows;
    * with ``recompute`` the two forward rffts run again to rebuild the spectra: r2c r_u, r2c r_k;
      with ``store`` the spectra were saved and nothing is recomputed.
    """
    n = plan.fft_length
    r_u, r_k, r_y = _fft_rows(plan)
    forward = Counter([("r2c", r_u, n), ("r2c", r_k, n), ("c2r", r_y, n)])
    backward = Counter([("r2c", r_y, n), ("c2r", r_k, n)])
    if signal_grad:
        backward[("c2r", r_u, n)] += 1
    if plan.spectra == "recompute":
        backward.update([("r2c", r_u, n), ("r2c", r_k, n)])
    return forward, backward


@pytest.mark.parametrize("spectra", ["recompute", "store"])
@pytest.mark.parametrize(("mode", "args"), LAYER_CASES, ids=LAYER_IDS)
def test_ssm_layer_step_matches_its_plan(mode: str, args: dict[str, int], spectra: str) -> None:
    batch, length = 2, 100
    layer = _ssm_layer(mode, spectra, args)
    plan = layer.plan(batch, length)
    u = torch.randn(batch, layer.in_channels, length, requires_grad=True)
    measured = measure_training_step(layer, u)

    forward, backward = _expected_layer_ffts(plan)
    assert measured.fft_signatures("forward") == forward, plan.key
    assert measured.fft_signatures("backward") == backward, plan.key
    # The planner rounds each step's FLOPs; the measurement rounds the total.
    assert abs(measured.fft_flops - plan.fft_flops) <= len(plan.steps), plan.key
    # The layer's input is saved too (measure_training_step counts it); einsum may copy a small weight.
    assert measured.saved_bytes == pytest.approx(plan.saved_bytes, rel=0.02), plan.key
    assert measured.matmul_flops == plan_flop_counter_flops(plan), plan.key


@pytest.mark.parametrize(("mode", "args"), LAYER_CASES, ids=LAYER_IDS)
def test_ssm_layer_without_input_gradient_skips_the_signal_adjoint(mode: str, args: dict[str, int]) -> None:
    """Without an input gradient the segment's signal needs none either, unless the plan
    transforms a projection of u (e.g. ``T1 = u·B``, which depends on the weight B)."""
    layer = _ssm_layer(mode, args=args)
    plan = layer.plan(2, 100)
    u = torch.randn(2, layer.in_channels, 100)
    measured = measure_training_step(layer, u)
    signal = next(step.inputs[0] for step in plan.steps if step.kind == "rfft")
    forward, backward = _expected_layer_ffts(plan, signal_grad=signal != "u")
    assert measured.fft_signatures("forward") == forward, plan.key
    assert measured.fft_signatures("backward") == backward, plan.key


# --------------------------------------------------------------------- networks and fake tensors
def _same_measurement(real: StepMeasurement, fake: StepMeasurement) -> None:
    assert fake.fake and not real.fake
    assert fake.matmul_flops == real.matmul_flops
    assert fake.forward_matmul_flops == real.forward_matmul_flops
    assert [c.signature for c in fake.fft_calls] == [c.signature for c in real.fft_calls]
    assert (fake.saved_bytes, fake.saved_tensor_count, fake.saved_storage_count) == (
        real.saved_bytes,
        real.saved_tensor_count,
        real.saved_storage_count,
    )
    assert fake.loss_saved_bytes == real.loss_saved_bytes
    assert fake.peak_bytes == real.peak_bytes


def test_fake_tensors_measure_a_layer_exactly_without_data() -> None:
    layer = _ssm_layer("full")
    u = torch.randn(2, 3, 100)
    real = measure_training_step(layer, u)
    fake = measure_training_step(layer, torch.empty(2, 3, 100, device="meta"), fake=True)
    _same_measurement(real, fake)
    assert all(parameter.grad is None for parameter in layer.parameters())


def _layer_lengths(network: nn.Module, inputs: torch.Tensor) -> list[tuple[SSMLayer, int, int]]:
    """(layer, batch, length) of every SSM layer call, in execution order."""
    seen: list[tuple[SSMLayer, int, int]] = []
    handles = [
        layer.register_forward_pre_hook(lambda module, args: seen.append((module, *args[0].shape[::2])))
        for layer in ssm_layers(network)
    ]
    try:
        with torch.no_grad():
            network(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def test_kws_network_ffts_match_the_plans_and_fake_equals_real() -> None:
    """Every FFT of a sampled keyword spotter's training step is one of its SSM layers' plan FFTs
    (inside a network the signal and the kernel of every layer need gradients), and the fake
    run reproduces the real measurement."""
    arch = builtin_space("kws").random(random.Random(0))
    torch.manual_seed(0)
    network = build(arch)
    inputs = torch.randn(2, arch.input.channels, 1024)
    real = measure_training_step(network, inputs)

    forward: Counter[tuple[str, int, int]] = Counter()
    backward: Counter[tuple[str, int, int]] = Counter()
    plan_fft_flops = 0
    for layer, batch, length in _layer_lengths(network, inputs):
        plan = layer.plan(batch, length)
        layer_forward, layer_backward = _expected_layer_ffts(plan)
        forward += layer_forward
        backward += layer_backward
        plan_fft_flops += plan.fft_flops
    assert real.fft_signatures("forward") == forward
    assert real.fft_signatures("backward") == backward
    assert abs(real.fft_flops - plan_fft_flops) <= len(real.fft_calls)
    assert real.matmul_flops > 0 and real.saved_bytes > 0 and real.peak_bytes

    fake = measure_training_step(network, inputs, fake=True)
    _same_measurement(real, fake)
