"""The layer on a CUDA device against the same layer on the CPU (float64); skipped without CUDA.

Every candidate plan (both spectra policies), the gradients of every parameter and of the input,
and streaming in both chunk forms. Runs on a GPU machine with
``python -m pytest --confcutdir=tests/centaurus tests/centaurus/test_cuda.py`` (the confcutdir
keeps the storage fixtures of ``tests/conftest.py``, which need PostgreSQL's driver, out).
"""

from __future__ import annotations

import copy

import pytest
import torch

from centaurus import streaming
from tests.centaurus.conftest import make_layer
from tests.centaurus.naive_recurrence import naive_forward

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _on_cuda(layer: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(layer).to("cuda")


@pytest.mark.parametrize("spectra", ["recompute", "store"])
def test_every_plan_and_gradient_matches_the_cpu(mode: str, spectra: str) -> None:
    cpu = make_layer(mode, spectra=spectra)
    gpu = _on_cuda(cpu)
    u = torch.randn(3, cpu.in_channels, 29, dtype=torch.float64)
    grad = torch.randn(3, cpu.out_channels, 29, dtype=torch.float64)
    for plan in cpu.candidate_plans(3, 29):
        outputs, gradients = [], []
        for layer, device in ((cpu, "cpu"), (gpu, "cuda")):
            x = u.to(device, copy=True).requires_grad_()
            layer.zero_grad(set_to_none=True)
            y = layer(x, plan=plan.key)
            y.backward(grad.to(device))
            outputs.append(y.detach().cpu())
            gradients.append([x.grad.cpu()] + [p.grad.cpu() for p in layer.parameters()])
        torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-10, atol=1e-12, msg=plan.key)
        for on_gpu, on_cpu in zip(gradients[1], gradients[0], strict=True):
            torch.testing.assert_close(on_gpu, on_cpu, rtol=1e-9, atol=1e-11, msg=plan.key)


@pytest.mark.parametrize("limit", [0, 1 << 40], ids=["factored", "dense"])
def test_streaming_on_cuda_matches_the_naive_recurrence(mode: str, limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "DENSE_CHUNK_LIMIT", limit)
    cpu = make_layer(mode)
    gpu = _on_cuda(cpu)
    u = torch.randn(2, cpu.in_channels, 24, dtype=torch.float64)
    stream = gpu.stream(batch=2)
    pieces, start = [], 0
    for size in (1, 5, 3, 7, 8):
        pieces.append(stream(u[:, :, start : start + size].cuda()).cpu())
        start += size
    torch.testing.assert_close(torch.cat(pieces, dim=-1), naive_forward(cpu, u), rtol=1e-6, atol=1e-9)
