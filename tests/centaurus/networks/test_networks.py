"""Task networks: shapes, gradients, and network-level streaming equal to the full-sequence output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from centaurus.networks import DenoisingUNet, KeywordSpotter, SpeechRecognizer, build
from centaurus.networks._blocks import ssm_layers


@dataclass(frozen=True)
class _Stage:
    block: str
    channels: int
    num_states: int = 4
    groups: int | None = None
    bottleneck_ratio: float | None = None
    state_blocks: int | None = None
    depth: int = 1
    stride: int = 1
    residual: bool = True
    norm: str = "layer"
    activation: str = "gelu"

    @property
    def bottleneck(self) -> int | None:
        return max(1, round(self.bottleneck_ratio * self.channels)) if self.bottleneck_ratio else None


@dataclass(frozen=True)
class _Input:
    sample_rate: int = 16000
    channels: int = 1
    length: int = 64


@dataclass(frozen=True)
class _Output:
    size: int


@dataclass(frozen=True)
class _Arch:
    task: str
    input: _Input
    output: _Output
    stages: tuple[_Stage, ...]


MIXED = (
    _Stage("full", 4, stride=2),
    _Stage("group", 8, groups=2, stride=2, depth=2),
    _Stage("neck", 8, bottleneck_ratio=0.25, stride=2),
    _Stage("dws", 8, norm="batch", activation="silu"),
    _Stage("s5", 6, state_blocks=2, residual=False),
)


def _network(task: str, output: int) -> torch.nn.Module:
    torch.manual_seed(0)
    network = build(_Arch(task, _Input(), _Output(output), MIXED)).double()
    with torch.no_grad():  # larger steps: the SSMs' memory reaches across chunks
        for layer in ssm_layers(network):
            layer.log_dt.add_(2.0)
    return network.eval()


@pytest.mark.parametrize(
    ("task", "output", "kind", "out_shape"),
    [
        ("kws", 5, KeywordSpotter, (2, 5)),
        ("asr", 7, SpeechRecognizer, (2, 8, 8)),
        ("denoise", 1, DenoisingUNet, (2, 1, 64)),
    ],
)
def test_networks_build_run_and_backpropagate(task: str, output: int, kind: type, out_shape: tuple[int, ...]) -> None:
    network = _network(task, output).train()
    assert isinstance(network, kind)
    audio = torch.randn(2, 1, 64, dtype=torch.float64)
    result = network(audio)
    assert result.shape == out_shape
    result.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in network.parameters())


@pytest.mark.parametrize(("task", "output"), [("kws", 5), ("asr", 7), ("denoise", 1)])
@pytest.mark.parametrize("chunk", [8, 16, 24])
def test_network_streaming_equals_full_sequence(task: str, output: int, chunk: int) -> None:
    network = _network(task, output)
    audio = torch.randn(2, 1, 96, dtype=torch.float64)
    with torch.no_grad():
        full = network(audio)
    stream = network.stream(batch=2)
    pieces = [stream(audio[:, :, start : start + chunk]) for start in range(0, 96, chunk)]
    if task == "kws":
        torch.testing.assert_close(pieces[-1], full, rtol=1e-9, atol=1e-9)
    else:
        torch.testing.assert_close(torch.cat(pieces, dim=-1), full, rtol=1e-9, atol=1e-9)


def test_stream_rejects_chunks_that_straddle_a_resampling_window() -> None:
    stream = _network("asr", 7).stream(batch=1)
    with pytest.raises(ValueError, match="chunk: got length 12; allowed: a multiple of the total stride 8"):
        stream(torch.randn(1, 1, 12, dtype=torch.float64))


def test_networks_use_no_recurrent_attention_or_temporal_convolutions() -> None:
    for task, output in (("kws", 5), ("asr", 7), ("denoise", 1)):
        for module in _network(task, output).modules():
            assert not isinstance(module, torch.nn.RNNBase | torch.nn.MultiheadAttention)
            if isinstance(module, torch.nn.Conv1d | torch.nn.ConvTranspose1d):
                # only 1x1 mixers and kernel = stride resampling
                assert module.kernel_size[0] == module.stride[0], module


def test_build_instantiates_the_layout_module_by_module() -> None:
    """Every op with parameters names the module built from it, with the op's sizes, and every parameter of the
    network belongs to such a module: the layout the cost model reads is the network."""
    import random

    from torch import nn

    from centaurus import SSMLayer
    from centaurus.networks.layout import network_layout
    from search_spaces import BUILTIN_SPACES, builtin_space

    for name in BUILTIN_SPACES:
        for arch in (builtin_space(name).random(random.Random(seed)) for seed in range(2)):
            network = build(arch)
            modules = dict(network.named_modules())
            ops = network_layout(arch, batch=1)
            covered: set[str] = set()
            for op in ops:
                module = modules.get(op.name)
                if op.kind == "ssm":
                    assert isinstance(module, SSMLayer) and module.mode == op.variant, op.name
                    assert (module.in_channels, module.out_channels) == (op.in_channels, op.out_channels)
                    assert module.sizes == op.size_map, op.name
                elif op.kind in ("conv1x1", "downsample", "upsample"):
                    assert isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)), op.name
                    assert (module.in_channels, module.out_channels) == (op.in_channels, op.out_channels), op.name
                    assert module.kernel_size[0] == (1 if op.kind == "conv1x1" else op.stride), op.name
                elif op.kind == "linear":
                    assert isinstance(module, nn.Linear) and module.out_features == op.out_channels, op.name
                elif op.kind in ("norm", "head_norm"):
                    assert module is not None, op.name
                if module is not None:
                    covered.update(f"{op.name}.{parameter}" for parameter, _ in module.named_parameters())
            assert {parameter for parameter, _ in network.named_parameters()} <= covered, arch.summary()
