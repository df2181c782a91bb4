"""The analytic cost model against independent measurement of real training steps.

Truths: FlopCounterMode's matmul FLOPs, the FFT calls a dispatch mode records, and the bytes autograd
saves (``nas.cost.measure``), on networks built from sampled architectures of every built-in space
(the homogeneous spaces cover each block type on its own).
"""

from __future__ import annotations

import random

import pytest
import torch

from centaurus import SSMLayer
from centaurus.networks import build
from nas.cli import main
from nas.cost import measure_training_step
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
