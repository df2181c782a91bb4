"""TorchScript and streaming for every task network (kws, denoise, asr), without a study: tiny networks with
their seeded initial weights. The export-time shims must leave eager execution untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from centaurus import CentaurusConfigError
from centaurus.networks import build
from nas.export import StreamingModel, export_torchscript, streaming_info
from nas.export._inference import onnx_friendly_spectra, traceable_inference
from nas.export.torchscript import load_script
from tests.nas.conftest import tiny_architecture

TASKS = ("kws", "denoise", "asr", "kws-mel", "asr-mel")  # *-mel: a log-mel frontend before the stages


def _network(task: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build(tiny_architecture(task)).eval()


@pytest.mark.parametrize("task", TASKS)
def test_torchscript_is_bit_exact_at_the_traced_length(task: str, tmp_path: Path) -> None:
    arch, network = tiny_architecture(task), _network(task)
    outcome = export_torchscript(network, tmp_path / "model.pt", channels=1, length=arch.input.length)
    assert outcome.ok and outcome.exact, outcome.error
    scripted = load_script(tmp_path / "model.pt")
    audio = torch.randn(2, 1, arch.input.length, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(scripted(audio), network(audio), rtol=1e-5, atol=1e-6)
        one = audio[:1]
        assert torch.equal(scripted(one), network(one))


@pytest.mark.parametrize("task", TASKS)
def test_streaming_equals_the_full_sequence(task: str) -> None:
    arch, network = tiny_architecture(task), _network(task)
    stride = arch.total_stride
    audio = torch.randn(1, 1, arch.input.length, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        full = network(audio)
    stream = StreamingModel(network, arch.task)
    for chunk in (7 * stride, 10 * stride):
        stream.reset()
        streamed = stream.run(audio, chunk)
        assert streamed.shape == full.shape
        torch.testing.assert_close(streamed, full, rtol=1e-5, atol=1e-5)
    prefix = audio[..., : 64 * stride]  # one stride per chunk, the finest chunking (on a prefix, for speed)
    stream.reset()
    with torch.no_grad():
        torch.testing.assert_close(stream.run(prefix, stride), network(prefix), rtol=1e-5, atol=1e-5)
    with pytest.raises(CentaurusConfigError, match=f"multiple of the total stride {stride}"):
        stream.run(audio, stride + 1)


@pytest.mark.parametrize("task", TASKS)
def test_streaming_info_matches_the_cost_model(task: str) -> None:
    from nas.cost import score

    arch, network = tiny_architecture(task), _network(task)
    info = streaming_info(network, arch.task, arch.input.sample_rate)
    assert info["total_stride"] == arch.total_stride
    assert info["state_bytes_per_stream"] == score(arch, 1).stream_state_bytes


def test_the_shims_leave_eager_execution_and_training_untouched() -> None:
    network = _network("asr").train()
    audio = torch.randn(2, 1, 16000, generator=torch.Generator().manual_seed(3))
    expected = network(audio)
    expected.square().mean().backward()
    gradients = [parameter.grad.clone() for parameter in network.parameters()]
    network.zero_grad()
    with traceable_inference(), onnx_friendly_spectra():
        got = network(audio)  # neither tracing nor exporting: the original code paths
        got.square().mean().backward()
    assert torch.equal(got, expected)
    for parameter, gradient in zip(network.parameters(), gradients, strict=True):
        assert torch.equal(parameter.grad, gradient)


def test_when_no_exporter_works_there_is_no_onnx_model_and_the_report_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnx")
    from nas.export import onnx_model

    real_missing = onnx_model._missing
    monkeypatch.setattr(onnx_model, "_missing", lambda module: module == "onnxscript" or real_missing(module))
    arch = tiny_architecture("kws")
    outcome = onnx_model.export_onnx(_network("kws"), tmp_path / "model.onnx", channels=1, length=arch.input.length)
    assert not outcome.ok and not (tmp_path / "model.onnx").exists()
    legacy, dynamo = outcome.attempts
    assert not legacy.ok and legacy.error  # the TorchScript-based exporter's own error, verbatim
    assert dynamo.error == "not tried: the package onnxscript is not installed"
    report = outcome.report()
    assert f"- {legacy.exporter}: FAILED" in report and legacy.error.splitlines()[0] in report
    assert "Result: no ONNX model" in report
    assert outcome.headline().startswith("not exported: ")
