"""Execution policies: the default is training as it was; every policy computes the same function."""

from __future__ import annotations

import pytest
import torch

from centaurus import (
    DEFAULT_POLICY,
    ONNX_POLICY,
    TRACE_POLICY,
    CentaurusConfigError,
    ExecutionPolicy,
    SSMLayer,
    execution_policy,
    set_execution_policy,
)
from centaurus.layer import SSMLayer as _Layer
from centaurus.networks import build
from centaurus.networks.frontend import LogMelFrontend
from centaurus.planning.execute import _program
from tests.nas.conftest import tiny_architecture

MODES = {"dws": {}, "s5": {}, "neck": {"bottleneck": 2}, "full": {}, "group": {"groups": 2}}


def _layer(mode: str, **options: object) -> SSMLayer:
    torch.manual_seed(0)
    return SSMLayer(4, 6 if mode != "dws" else 4, 3, mode, dtype=torch.float64, **MODES[mode], **options)  # type: ignore[arg-type]


def _output_and_gradients(module: torch.nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    module.zero_grad()
    output = module(audio)
    output.square().sum().backward()
    return output.detach(), [parameter.grad.clone() for parameter in module.parameters()]


def test_the_default_policy_is_what_training_ran() -> None:
    assert ExecutionPolicy() == DEFAULT_POLICY
    assert (DEFAULT_POLICY.fft_length, DEFAULT_POLICY.complex_product) == ("minimal", "complex")
    assert (DEFAULT_POLICY.autograd, DEFAULT_POLICY.frontend_dft) == ("custom", "fft")
    layer = _layer("s5")
    assert layer.policy is DEFAULT_POLICY
    plan = layer.plan(2, 50)
    program = _program(plan, DEFAULT_POLICY)
    assert program.fft_length == plan.fft_length == 100 and not program.real_products


@pytest.mark.parametrize("mode", sorted(MODES))
def test_an_explicit_default_policy_trains_bit_for_bit_as_before(mode: str) -> None:
    u = torch.randn(2, 4, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    implicit, explicit = _layer(mode), _layer(mode, policy=ExecutionPolicy())
    (out_a, grads_a), (out_b, grads_b) = _output_and_gradients(implicit, u), _output_and_gradients(explicit, u)
    assert torch.equal(out_a, out_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b, strict=True))


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("policy", [TRACE_POLICY, ONNX_POLICY], ids=["trace", "onnx"])
def test_every_policy_computes_the_same_outputs_and_gradients_in_float64(mode: str, policy: ExecutionPolicy) -> None:
    u = torch.randn(2, 4, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    layer = _layer(mode)
    expected, expected_grads = _output_and_gradients(layer, u)
    with execution_policy(layer, policy):
        assert layer.policy is policy
        got, grads = _output_and_gradients(layer, u)
    assert layer.policy is DEFAULT_POLICY
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    for a, b in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_the_onnx_policy_runs_power_of_two_ffts_and_real_products() -> None:
    plan = _layer("full").plan(1, 50)
    program = _program(plan, ONNX_POLICY)
    assert program.fft_length == 128 and program.real_products
    assert _program(plan, ExecutionPolicy(fft_length="power_of_two")).fft_length == 128
    assert ExecutionPolicy(fft_length="power_of_two").spectral_fft_length(128) == 128


@pytest.mark.parametrize("task", ["kws-mel", "denoise"])
def test_a_whole_network_under_the_onnx_policy_gives_the_same_outputs_in_float64(task: str) -> None:
    torch.manual_seed(0)
    arch = tiny_architecture(task)
    network = build(arch).double().eval()
    audio = torch.randn(2, 1, arch.input.length, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = network(audio)
        previous = set_execution_policy(network, ONNX_POLICY)
        holders = [module for module in network.modules() if isinstance(module, (_Layer, LogMelFrontend))]
        assert holders and all(module.policy is ONNX_POLICY for module in holders)
        assert set(previous) == set(holders) and all(policy is DEFAULT_POLICY for policy in previous.values())
        got = network(audio)
        set_execution_policy(network, DEFAULT_POLICY)
        again = network(audio)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10 * float(expected.abs().max()))
    assert torch.equal(again, expected)


def test_the_policy_is_restored_when_the_block_raises() -> None:
    layer = _layer("dws")
    with pytest.raises(RuntimeError, match="inside"), execution_policy(layer, ONNX_POLICY):
        raise RuntimeError("inside")
    assert layer.policy is DEFAULT_POLICY


def test_a_bad_policy_is_refused_naming_the_field() -> None:
    with pytest.raises(CentaurusConfigError, match=r"fft_length: got 'odd'; allowed: minimal, power_of_two"):
        ExecutionPolicy(fft_length="odd")  # type: ignore[arg-type]
    with pytest.raises(CentaurusConfigError, match=r"policy: got 'onnx'; allowed: an ExecutionPolicy"):
        _layer("dws", policy="onnx")
    with pytest.raises(CentaurusConfigError, match=r"policy: got None; allowed: an ExecutionPolicy"):
        set_execution_policy(_layer("dws"), None)  # type: ignore[arg-type]
