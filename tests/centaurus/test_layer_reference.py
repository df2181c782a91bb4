"""Training forward and streaming output (both chunk forms) of every mode against the naive recurrence."""

from __future__ import annotations

import pytest
import torch

from centaurus import streaming
from tests.centaurus.conftest import make_layer
from tests.centaurus.naive_recurrence import naive_forward


@pytest.mark.parametrize("length", [1, 2, 23, 64])
def test_forward_matches_naive_recurrence(mode: str, length: int) -> None:
    layer = make_layer(mode)
    u = torch.randn(2, layer.in_channels, length, dtype=torch.float64)
    expected = naive_forward(layer, u)
    torch.testing.assert_close(layer(u), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("spectra", ["recompute", "store"])
def test_every_candidate_plan_matches_naive_recurrence(mode: str, spectra: str) -> None:
    layer = make_layer(mode, spectra=spectra)
    u = torch.randn(2, layer.in_channels, 19, dtype=torch.float64)
    expected = naive_forward(layer, u)
    for plan in layer.candidate_plans(2, 19):
        torch.testing.assert_close(layer(u, plan=plan), expected, rtol=1e-6, atol=1e-9, msg=plan.key)


@pytest.fixture(params=["dense", "flat", "blocked"])
def chunk_form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Stream chunks as dense matrices, or step by step (frozen plan, and pole-power tables over every
    sample of the chunk or in blocks)."""
    monkeypatch.setattr(streaming, "DENSE_CHUNK_LIMIT", 1 << 40 if request.param == "dense" else 0)
    monkeypatch.setattr(streaming, "FLAT_TABLE_LIMIT", 0 if request.param == "blocked" else 1 << 40)
    monkeypatch.setattr(streaming, "BLOCKED_SHRINK", 0)
    return request.param


@pytest.mark.parametrize("chunks", [[1] * 20, [3, 5, 1, 7, 4], [20], [2, 18], [13, 1, 1, 5]])
def test_streaming_matches_naive_recurrence(mode: str, chunks: list[int], chunk_form: str) -> None:
    layer = make_layer(mode)
    u = torch.randn(3, layer.in_channels, sum(chunks), dtype=torch.float64)
    stream = layer.stream(batch=3)
    pieces, start = [], 0
    for size in chunks:
        pieces.append(stream(u[:, :, start : start + size]))
        start += size
    streamed = torch.cat(pieces, dim=-1)
    torch.testing.assert_close(streamed, naive_forward(layer, u), rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(streamed, layer(u), rtol=1e-6, atol=1e-9)


def test_stream_reset_starts_a_new_utterance(mode: str, chunk_form: str) -> None:
    layer = make_layer(mode)
    u = torch.randn(1, layer.in_channels, 12, dtype=torch.float64)
    stream = layer.stream()
    first = torch.cat([stream(u[:, :, :6]), stream(u[:, :, 6:])], dim=-1)
    stream.reset()
    second = torch.cat([stream(u[:, :, :4]), stream(u[:, :, 4:])], dim=-1)
    torch.testing.assert_close(first, second, rtol=1e-6, atol=1e-9)


def test_float32_streaming_over_a_long_signal_stays_close(mode: str, chunk_form: str) -> None:
    layer = make_layer(mode, dtype=torch.float32)
    u = torch.randn(1, layer.in_channels, 600)
    stream = layer.stream()
    streamed = torch.cat([stream(u[:, :, start : start + 37]) for start in range(0, 600, 37)], dim=-1)
    torch.testing.assert_close(streamed, layer(u), rtol=1e-4, atol=1e-4)
