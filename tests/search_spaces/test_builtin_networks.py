"""Every built-in space's architectures build into networks that run, backpropagate and stream."""

from __future__ import annotations

import random

import pytest
import torch

from centaurus.networks import build
from search_spaces import BUILTIN_SPACES, builtin_space


@pytest.mark.parametrize("name", BUILTIN_SPACES)
def test_sampled_architectures_build_and_train_a_step(name: str) -> None:
    space = builtin_space(name)
    rng = random.Random(7)
    for _ in range(3):
        arch = space.random(rng)
        torch.manual_seed(0)
        network = build(arch)
        audio = torch.randn(2, arch.input.channels, 2 * arch.total_stride)
        output = network(audio)
        assert torch.isfinite(output).all(), arch.summary()
        output.square().mean().backward()
        grads = [p.grad for p in network.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads), arch.summary()


@pytest.mark.parametrize("name", ["kws", "kws-mel", "denoise", "asr"])
def test_sampled_network_streams_like_the_full_sequence(name: str) -> None:
    arch = builtin_space(name).random(random.Random(3))
    task = arch.task
    torch.manual_seed(0)
    network = build(arch).double().eval()
    stride = arch.total_stride
    audio = torch.randn(1, 1, 6 * stride, dtype=torch.float64)
    with torch.no_grad():
        full = network(audio)
    stream = network.stream(batch=1)
    pieces = [stream(audio[:, :, start : start + 2 * stride]) for start in range(0, 6 * stride, 2 * stride)]
    streamed = pieces[-1] if task == "kws" else torch.cat(pieces, dim=-1)
    torch.testing.assert_close(streamed, full, rtol=1e-8, atol=1e-8)
