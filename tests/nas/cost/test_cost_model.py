"""The analytic cost model against independent measurement of real training steps.

Truths: FlopCounterMode's matmul FLOPs, the FFT calls a dispatch mode records, and the bytes autograd
saves (``nas.cost._measure``), on networks built from sampled architectures of every built-in space
(the homogeneous spaces cover each block type on its own).
"""

from __future__ import annotations

import dataclasses
import math
import random

import pytest
import torch
from torch import nn

from centaurus import ContractionPlan, SSMLayer
from centaurus.networks import build
from centaurus.networks.layout import LayerOp
from centaurus.post import ChannelLayerNorm
from nas.cli import main
from nas.cost import measure_training_step
from nas.cost._layouts import CONTIGUOUS, TIME_MAJOR, input_is_saved_as_is, output_layout, ssm_output_layout
from nas.cost.conventions import flop_counter_flops
from nas.cost.model import score
from search_spaces import BUILTIN_SPACES, builtin_space


def _sampled(name: str, count: int, seed: int = 11) -> list:
    space = builtin_space(name)
    rng = random.Random(seed)
    return [space.random(rng) for _ in range(count)]


@pytest.mark.parametrize("name", BUILTIN_SPACES)
def test_layout_matches_the_built_network(name: str) -> None:
    for arch in _sampled(name, 3):
        report = score(arch, batch=2, length=2 * arch.total_stride)
        network = build(arch)
        assert report.params == sum(p.numel() for p in network.parameters()), arch.summary()
        built = [(n, m.mode, m.sizes) for n, m in network.named_modules() if isinstance(m, SSMLayer)]
        predicted = [(row.name, row.plan.mode, _layer_sizes(row)) for row in report.layers if row.plan]
        assert [(n, mode) for n, mode, _ in built] == [(n, mode) for n, mode, _ in predicted]
        assert [sizes for *_, sizes in built] == [sizes for *_, sizes in predicted]


def _layer_sizes(row) -> dict[str, int]:  # the plan's sizes minus batch and time
    return {k: v for k, v in row.plan.sizes.items() if k not in ("b", "l", "f")}


@pytest.mark.parametrize("name", BUILTIN_SPACES)
def test_predictions_match_measurement(name: str) -> None:
    torch.set_num_threads(1)
    for arch in _sampled(name, 2):
        batch, length = 2, 4 * arch.total_stride
        report = score(arch, batch=batch, length=length)
        torch.manual_seed(0)
        network = build(arch)
        measured = measure_training_step(network, torch.randn(batch, arch.input.channels, length))
        summary = arch.summary()
        assert flop_counter_flops(report) == pytest.approx(measured.matmul_flops, rel=1e-6), summary
        assert report.fft_flops == pytest.approx(measured.fft_flops, rel=1e-5), summary  # per-step rounding
        assert report.activation_bytes == pytest.approx(measured.saved_bytes, rel=0.05), summary


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_saved_bytes_when_a_layer_copies_its_input(norm: str) -> None:
    """A block input read by both an SSM layer and its 1x1 skip projection: from batch 2 on, the
    layer's time-domain einsum (bcl,nc->bnl) saves a copy of a contiguous input, a view of a
    time-major one (after a layer norm), and the projection saves the input itself."""
    torch.set_num_threads(1)
    base = _sampled("asr-s5", 2)[1]  # asr | s5 b4 8 n16 /4 | s5 32 n8 /4 | ... (residual blocks)
    arch = dataclasses.replace(base, stages=tuple(dataclasses.replace(s, norm=norm) for s in base.stages))
    for batch in (1, 2, 4):
        length = 4 * arch.total_stride
        report = score(arch, batch=batch, length=length)
        torch.manual_seed(0)
        measured = measure_training_step(build(arch), torch.randn(batch, 1, length), track_peak=False)
        assert report.activation_bytes == measured.saved_bytes, (norm, batch)


# Tiny layers of every mode with unequal axes, so that no two layouts coincide by accident.
_LAYOUT_LAYERS = {
    "dws": dict(in_channels=3, out_channels=5, num_states=4),
    "s5": dict(in_channels=3, out_channels=5, num_states=4),
    "neck": dict(in_channels=3, out_channels=5, num_states=4, bottleneck=2),
    "full": dict(in_channels=3, out_channels=5, num_states=2),
    "group": dict(in_channels=4, out_channels=6, num_states=3, groups=2),
}


def _memory_order(tensor: torch.Tensor) -> str:
    """The axes of a (b, c, l) tensor of size > 1, outermost first."""
    axes = [axis for axis in range(3) if tensor.shape[axis] > 1]
    return "".join("bcl"[axis] for axis in sorted(axes, key=lambda axis: -tensor.stride(axis)))


def _plan_variants(layer: SSMLayer, batch: int, length: int) -> list[ContractionPlan]:
    """One candidate plan per distinct (einsum on u, last step): what the layout rules depend on."""
    variants: dict[tuple[str, str], ContractionPlan] = {}
    for plan in layer.candidate_plans(batch, length):
        on_u = [step.equation for step in plan.steps if "u" in step.inputs and not step.in_segment]
        last = plan.steps[-1]
        variants.setdefault((";".join(on_u), f"{last.kind} {last.equation}"), plan)
    return list(variants.values())


@pytest.mark.parametrize("mode", list(_LAYOUT_LAYERS))
def test_layout_rules_match_torch_on_ssm_layers(mode: str) -> None:
    """Whether a plan saves the input's own storage, and how its output is laid out, as torch does."""
    torch.manual_seed(0)
    layer = SSMLayer(mode=mode, **_LAYOUT_LAYERS[mode])  # type: ignore[arg-type]
    channels, length = layer.in_channels, 7
    for batch in (1, 2):
        for plan in _plan_variants(layer, batch, length):
            for layout in (CONTIGUOUS, TIME_MAJOR):
                if layout == CONTIGUOUS:
                    u = torch.randn(batch, channels, length, requires_grad=True)
                else:
                    u = torch.randn(batch, length, channels).transpose(1, 2).requires_grad_()
                storages: set[int] = set()

                def pack(tensor: torch.Tensor, storages: set[int] = storages) -> torch.Tensor:
                    storages.add(tensor.untyped_storage().data_ptr())
                    return tensor

                with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
                    output = layer(u, plan)
                where = f"{mode} b={batch} {layout} {plan.key}"
                saves_u = u.untyped_storage().data_ptr() in storages
                assert saves_u == ("u" in plan.saved_tensors and input_is_saved_as_is(plan, layout)), where
                predicted = [axis for axis in ssm_output_layout(plan) if output.shape["bcl".index(axis)] > 1]
                assert _memory_order(output) == "".join(predicted), where


@pytest.mark.parametrize("layout", [CONTIGUOUS, TIME_MAJOR])
def test_layout_rules_match_torch_around_ssm_layers(layout: str) -> None:
    """Convolutions, norms, activations and sums: the memory order of their outputs."""
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6) if layout == CONTIGUOUS else torch.randn(2, 6, 4).transpose(1, 2)
    other = torch.randn(2, 4, 6)
    layouts = {"x": layout, "other": CONTIGUOUS}
    cases: list[tuple[LayerOp, torch.Tensor]] = [
        (LayerOp("c", "conv1x1", 2, 6, 4, 4, inputs=("x",)), nn.Conv1d(4, 4, 1)(x)),
        (LayerOp("d", "downsample", 2, 6, 4, 4, stride=2, inputs=("x",)), nn.Conv1d(4, 4, 2, stride=2)(x)),
        (LayerOp("u", "upsample", 2, 6, 4, 4, stride=2, inputs=("x",)), nn.ConvTranspose1d(4, 4, 2, stride=2)(x)),
        (LayerOp("bn", "norm", 2, 6, 4, 4, variant="batch", inputs=("x",)), nn.BatchNorm1d(4)(x)),
        (LayerOp("ln", "norm", 2, 6, 4, 4, variant="layer", inputs=("x",)), ChannelLayerNorm(4)(x)),
        (LayerOp("a", "activation", 2, 6, 4, 4, variant="gelu", inputs=("x",)), nn.GELU()(x)),
        (LayerOp("r", "activation", 2, 6, 4, 4, variant="relu", inputs=("x",)), nn.ReLU()(x)),
        (LayerOp("s1", "add", 2, 6, 4, 4, inputs=("x", "other")), x + other),
        (LayerOp("s2", "add", 2, 6, 4, 4, inputs=("other", "x")), other + x),
    ]
    for op, output in cases:
        assert _memory_order(output) == output_layout(op, layouts), op.name


def test_report_totals_and_units() -> None:
    arch = _sampled("kws", 1)[0]
    report = score(arch, batch=4)
    assert report.length == arch.input.length
    assert report.train_flops == report.contraction_flops + report.fft_flops + report.elementwise_flops
    assert report.train_peak_bytes == (
        report.param_bytes
        + report.grad_bytes
        + report.optimizer_bytes
        + report.activation_bytes
        + report.workspace_bytes
    )
    assert report.optimizer_bytes == 2 * report.param_bytes
    assert score(arch, batch=4, optimizer="sgd").optimizer_bytes == 0
    double = score(arch, batch=4, dtype=torch.float64)
    assert double.activation_bytes == pytest.approx(2 * report.activation_bytes, rel=0.01)
    assert score(arch, batch=8).activation_bytes > report.activation_bytes
    assert report.stream_state_bytes == 8 * sum(_poles(row) for row in report.layers if row.plan)
    assert set(report.objectives()) >= {"train_flops", "train_peak_bytes", "params"}


def _poles(row) -> int:
    return {
        "dws": lambda s: s["c"] * s["n"],
        "s5": lambda s: s["n"],
        "neck": lambda s: s["r"] * s["m"],
        "full": lambda s: s["d"] * s["c"] * s["n"],
        "group": lambda s: s["g"] * s["j"] * s["i"] * s["n"],
    }[row.plan.mode](row.plan.sizes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(batch=0), r"batch: got 0; allowed: a positive integer"),
        (dict(batch=2, optimizer="lion"), r"optimizer: got 'lion'; allowed: adamw, adam, sgd, sgd_momentum"),
        (dict(batch=2, dtype=torch.int32), r"dtype: got torch.int32"),
        (dict(batch=2, length=1000), r"length: got 1000; allowed: a multiple of the total stride"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    arch = _sampled("kws", 1, seed=3)[0]
    if "length" in kwargs:
        kwargs["length"] = arch.total_stride * 3 + 1
        message = rf"length: got {kwargs['length']}; allowed: a multiple of the total stride {arch.total_stride}"
    with pytest.raises(ValueError, match=message):
        score(arch, **kwargs)


def test_cost_command_prints_the_table_and_totals(tmp_path, capsys) -> None:
    arch = _sampled("asr", 1)[0]
    path = arch.save(tmp_path / "arch.yaml")
    assert main(["cost", str(path), "--batch", "4", "--length", str(4 * arch.total_stride)]) == 0
    out = capsys.readouterr().out
    assert "plan:" in out and "training FLOPs / step" in out and "peak training memory" in out
    assert arch.summary() in out


def test_one_fft_convention_for_the_planner_and_the_model_checked_by_the_measurement() -> None:
    """The planner and the cost model price FFTs with ``centaurus.planning.fft_flops``; ``nas.cost._measure`` keeps
    its own count (the independent truth) and agrees with it, 1-point transforms included."""
    import ast
    import inspect

    from centaurus.planning import fft_flops
    from nas.cost import _measure as measure
    from nas.cost import model as cost_model

    for kind in ("r2c", "c2r", "c2c"):
        for length in (0, 1, 2, 3, 400, 2000, 32000):
            assert fft_flops(length, 3, kind) == pytest.approx(measure.fft_flops(kind, 3, length)), (kind, length)
    assert fft_flops(1) == 0.0 and fft_flops(2000) == pytest.approx(2.5 * 2000 * math.log2(2000))
    imported = {
        node.module for node in ast.walk(ast.parse(inspect.getsource(cost_model))) if isinstance(node, ast.ImportFrom)
    }
    assert "nas.cost._measure" not in imported  # the model is checked against measure.py, so it must not use it


def test_the_plan_cache_can_be_cleared_through_the_public_api() -> None:
    from centaurus.planning import clear_plan_cache

    layer = SSMLayer(4, 4, 3, "dws")
    first = layer.plan(2, 64)
    assert layer.plan(2, 64) is first  # cached per shape
    clear_plan_cache()
    again = layer.plan(2, 64)
    assert again is not first and again.key == first.key
