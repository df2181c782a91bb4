"""The factored basis kernel and its contractions against the time-domain kernel, in float64."""

from __future__ import annotations

import pytest
import torch

from centaurus.planning import KernelContraction, contract_kernel, time_blocks

_SIZES = {"c": 3, "n": 4, "d": 5, "r": 2, "m": 3, "g": 2, "i": 2, "j": 3}
# (weight, poles, output): the kernel-branch contractions the modes' plans run, and materialising K.
_CASES = [
    ("cn", "cn", "c"),  # dws E K
    ("", "cn", "cn"),  # K itself
    ("dcn", "dcn", "dc"),  # full E K
    ("dn", "n", "dn"),  # s5 C K, n kept for B
    ("dcn", "n", "dc"),  # s5 (B C) K
    ("rm", "rm", "r"),  # neck E K
    ("gjin", "gjin", "gji"),  # group E K
]


def _reference(weight: str, poles: str, output: str, length: int, rate, freq, scale, w):
    time = torch.arange(length, dtype=rate.dtype)
    kernel = scale[..., None] * torch.exp(rate[..., None] * time) * torch.cos(freq[..., None] * time)
    return kernel if w is None else torch.einsum(f"{weight},{poles}l->{output}l", w, kernel)


@pytest.mark.parametrize("length", [1, 3, 7, 100, 257])
@pytest.mark.parametrize(("weight", "poles", "output"), _CASES)
def test_factored_contraction_equals_the_time_domain_kernel(weight: str, poles: str, output: str, length: int):
    torch.manual_seed(length)
    shape = [_SIZES[index] for index in poles]
    rate = (-0.01 - 0.05 * torch.rand(*shape, dtype=torch.float64)).requires_grad_()
    freq = torch.rand(*shape, dtype=torch.float64).requires_grad_()
    scale = (0.1 + torch.rand(*shape, dtype=torch.float64)).requires_grad_()
    w = torch.randn(*[_SIZES[i] for i in weight], dtype=torch.float64, requires_grad=True) if weight else None
    inputs = (rate, freq, scale) + ((w,) if w is not None else ())
    spec = KernelContraction(weight, poles, output, length)
    ours = contract_kernel(spec, rate, freq, scale, w)
    truth = _reference(weight, poles, output, length, rate, freq, scale, w)
    assert torch.allclose(ours, truth, atol=1e-11, rtol=0)
    grad = torch.randn_like(truth)
    for a, b in zip(torch.autograd.grad(ours, inputs, grad), torch.autograd.grad(truth, inputs, grad), strict=True):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize("length", [4, 100, 1000, 4000, 16000, 16001])
def test_time_blocks_cover_the_length_with_less_than_one_block_of_padding(length: int) -> None:
    blocks, block = time_blocks(length)
    assert blocks * block >= length > (blocks - 1) * block
    assert block & (block - 1) == 0 and blocks >= 2


def test_a_fake_computation_leaves_no_fake_constant_behind() -> None:
    """Constants cached per size (column times, FFT bin weights) are not cached from fake tensors: a
    step under FakeTensorMode (as the cost model measures) before a real one of the same size."""
    from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode

    from tests.centaurus.conftest import make_layer

    layer = make_layer("dws", dtype=torch.float32, spectra="recompute")
    length = 37
    with FakeTensorMode(allow_non_fake_inputs=True):
        fake_out = layer(torch.randn(2, layer.in_channels, length))
        fake_out.sum().backward()
    assert isinstance(fake_out, FakeTensor)
    layer.zero_grad(set_to_none=True)
    u = torch.randn(2, layer.in_channels, length)
    real_out = layer(u)
    real_out.sum().backward()
    assert not isinstance(real_out, FakeTensor) and torch.isfinite(real_out).all()
    assert all(not isinstance(p.grad, FakeTensor) for p in layer.parameters())
