"""Gradients: finite-difference checks of every mode, and every plan equal to the chosen one."""

from __future__ import annotations

import pytest
import torch

from tests.centaurus.conftest import make_layer


@pytest.mark.parametrize("spectra", ["recompute", "store"])
def test_gradcheck_every_mode(mode: str, spectra: str) -> None:
    layer = make_layer(mode, spectra=spectra)
    u = torch.randn(2, layer.in_channels, 9, dtype=torch.float64, requires_grad=True)
    parameters = tuple(layer.parameters())

    def run(u: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        replaced = dict(zip((name for name, _ in layer.named_parameters()), params, strict=True))
        return torch.func.functional_call(layer, replaced, (u,))

    # fast_mode: finite differences along random directions, one pass per direction instead of per entry
    assert torch.autograd.gradcheck(run, (u, *parameters), eps=1e-6, atol=1e-7, rtol=1e-5, fast_mode=True)


@pytest.mark.parametrize("spectra", ["recompute", "store"])
def test_gradcheck_forced_plans(mode: str, spectra: str) -> None:
    """A sample of non-default plans (one per distinct tree) passes gradcheck too."""
    layer = make_layer(mode, spectra=spectra)
    u = torch.randn(1, layer.in_channels, 6, dtype=torch.float64, requires_grad=True)
    seen_trees: set[str] = set()
    for plan in layer.candidate_plans(1, 6):
        if plan.tree in seen_trees or plan.spectra != spectra:
            continue
        seen_trees.add(plan.tree)
        assert torch.autograd.gradcheck(lambda x, plan=plan: layer(x, plan=plan), (u,), eps=1e-6, atol=1e-7)
        if len(seen_trees) >= 8:
            break


def test_every_plan_has_the_chosen_plans_gradients(mode: str) -> None:
    layer = make_layer(mode)
    u = torch.randn(2, layer.in_channels, 15, dtype=torch.float64, requires_grad=True)
    params = [u, *layer.parameters()]
    output = layer(u)
    upstream = torch.randn_like(output)
    expected = torch.autograd.grad(output, params, upstream)
    for plan in layer.candidate_plans(2, 15):
        got = torch.autograd.grad(layer(u, plan=plan), params, upstream)
        for name, a, b in zip(["u", *(n for n, _ in layer.named_parameters())], got, expected, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-10, msg=f"{plan.key}: d/d{name}")
