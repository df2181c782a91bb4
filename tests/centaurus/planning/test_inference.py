"""Frozen plans (streaming's in-chunk convolution) against the training forward of the same plan."""

from __future__ import annotations

import torch

from centaurus.planning.inference import FrozenPlan, cheapest_frozen_plan, per_call_cost
from tests.centaurus.conftest import make_layer


def test_every_frozen_candidate_equals_the_training_forward(mode: str) -> None:
    layer = make_layer(mode)
    u = torch.randn(2, layer.in_channels, 11, dtype=torch.float64)
    weights = {name: getattr(layer, name) for name in layer.weight_names}
    grouped = layer.operands(u, None)["u"]
    with torch.no_grad():
        for plan in layer.candidate_plans(2, 11):
            frozen = FrozenPlan(plan, weights, layer.poles())
            expected = layer(u, plan=plan)
            torch.testing.assert_close(frozen(grouped).reshape(expected.shape), expected, rtol=1e-12, atol=1e-12)
            assert frozen.per_call_steps < len(plan.steps)  # the kernel's generation at least is frozen


def test_the_frozen_plan_runs_the_least_work_per_call(mode: str) -> None:
    layer = make_layer(mode)
    plans = layer.candidate_plans(1, 16)
    chosen = cheapest_frozen_plan(plans)
    assert per_call_cost(chosen) == min(per_call_cost(plan) for plan in plans)


def test_adding_before_the_final_projection_equals_adding_its_projection() -> None:
    layer = make_layer("dws")
    weights = {name: getattr(layer, name) for name in layer.weight_names}
    u = torch.randn(2, layer.in_channels, 9, dtype=torch.float64)
    extra = torch.randn(2, layer.in_channels, 9, dtype=torch.float64)
    checked = 0
    with torch.no_grad():
        for plan in layer.candidate_plans(2, 9):
            frozen = FrozenPlan(plan, weights, layer.poles())
            if frozen.final_projection != ("bcl,dc->bdl", "W"):
                continue  # streaming shares only the readout's own projection
            expected = frozen(u) + torch.einsum("bcl,dc->bdl", extra, layer.W)
            torch.testing.assert_close(frozen(u, before_final=extra), expected, rtol=1e-12, atol=1e-12)
            checked += 1
    assert checked > 0
