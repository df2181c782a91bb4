"""Plan enumeration, choice, caching and the inspectable plan objects."""

from __future__ import annotations

import math

import pytest
import torch

from centaurus import SSMLayer
from centaurus.modes import EXPRESSIONS
from centaurus.planning import (
    DEFAULT_COSTS,
    FLOPS_ONLY,
    PlannerCost,
    best_plan_for_tree,
    candidate_plans,
    choose_plan,
    fft_flops,
    opt_einsum_tree,
    plan_score,
)
from centaurus.planning._trees import contraction_trees


@pytest.mark.parametrize(("operands", "trees"), [(2, 1), (3, 3), (4, 15), (5, 105)])
def test_tree_count_is_the_double_factorial(operands: int, trees: int) -> None:
    letters = "abcde"[:operands]
    found = contraction_trees(tuple(letters), "")
    assert len(found) == trees == math.prod(range(1, 2 * operands - 2, 2))
    assert len({tree.render(tuple(letters)) for tree in found}) == trees


@pytest.mark.parametrize("cost", [DEFAULT_COSTS["cpu"], FLOPS_ONLY, PlannerCost(rfft_weight=5.0, byte_weight=4.0)])
def test_chosen_plan_is_the_cheapest_candidate(cost: PlannerCost) -> None:
    sizes = {"c": 4, "d": 4, "n": 256}
    chosen = choose_plan("s5", sizes, 1, 16000, cost=cost)
    for plan in candidate_plans("s5", sizes, 1, 16000, spectra="recompute"):
        assert plan_score(chosen, cost) <= plan_score(plan, cost)


def test_layer_uses_the_device_default_cost() -> None:
    layer = SSMLayer(8, 8, 64, "neck", bottleneck=2)
    assert layer.plan(4, 3000) is choose_plan("neck", layer.sizes, 4, 3000, cost=DEFAULT_COSTS["cpu"])


def test_plan_beats_fft_blind_opt_einsum_on_the_design_example() -> None:
    """DESIGN.md: b=1, c=4, n=256, d=4, L=16000: opt_einsum's tree costs ~2.85x the FFT-aware one."""
    sizes = {"c": 4, "d": 4, "n": 256}
    chosen = choose_plan("s5", sizes, 1, 16000, cost=FLOPS_ONLY)
    blind = best_plan_for_tree("s5", sizes, 1, 16000, opt_einsum_tree("s5", sizes, 1, 16000))
    assert blind.training_flops > 2 * chosen.training_flops


def test_project_first_wins_for_large_batch_small_state_and_kernel_first_for_the_opposite() -> None:
    project = choose_plan("s5", {"c": 256, "d": 256, "n": 16}, 32, 1000)
    assert project.tree.startswith("((u,B),K)")
    kernel_first = choose_plan("s5", {"c": 4, "d": 4, "n": 256}, 64, 16000)
    signal_leaf_meets_last = kernel_first.u_fft_at == "u" and "u," in kernel_first.tree
    assert signal_leaf_meets_last, kernel_first.key


def test_plan_object_is_inspectable_and_consistent() -> None:
    plan = choose_plan("neck", {"c": 64, "d": 64, "r": 8, "m": 16}, 8, 1000)
    assert plan.fft_length == 2000
    assert plan.training_flops == plan.contraction_flops + plan.fft_flops
    kinds = [step.kind for step in plan.steps]
    assert kinds.count("rfft") == 2 and kinds.count("irfft") == 1
    for step in plan.steps:
        assert step.output.nbytes == math.prod(step.output.shape) * 4 * (2 if step.output.is_complex else 1)
        if step.kind == "contract":
            assert step.backward_flops == 2 * step.forward_flops
        else:
            assert step.forward_flops == round(step.fft_rows * fft_flops(2000))
    assert plan.largest_intermediate_bytes == max(step.output.nbytes for step in plan.steps)
    assert plan.output.shape == (8, 64, 1000)
    text = plan.describe()
    assert plan.tree in text and "GFLOP" in text


def test_layer_plan_is_cached_per_shape_and_dtype() -> None:
    layer = SSMLayer(8, 8, 16, "s5")
    assert layer.plan(4, 100) is layer.plan(4, 100)
    assert layer.plan(4, 100) is not layer.plan(4, 101)
    double = SSMLayer(8, 8, 16, "s5", dtype=torch.float64)
    assert double.plan(4, 100).inputs[0].real_itemsize == 8


def test_store_policy_saves_more_but_computes_less() -> None:
    sizes = {"c": 32, "d": 32, "n": 32}
    for plan in candidate_plans("s5", sizes, 8, 2000, spectra="recompute"):
        twin = next(
            other
            for other in candidate_plans("s5", sizes, 8, 2000, spectra="store")
            if other.key == plan.key.replace("recompute", "store")
        )
        assert twin.saved_bytes > plan.saved_bytes
        assert twin.training_flops < plan.training_flops


def test_plans_can_be_forced_by_key() -> None:
    layer = SSMLayer(3, 3, 4, "s5")
    u = torch.randn(1, 3, 10)
    plan = layer.candidate_plans(1, 10)[-1]
    torch.testing.assert_close(layer(u, plan=plan.key), layer(u, plan=plan))
    with pytest.raises(ValueError, match="plan: got key"):
        layer(u, plan="no such plan")
    with pytest.raises(ValueError, match="plan: got a s5 plan for b=1, L=10"):
        layer(torch.randn(1, 3, 11), plan=plan)


def test_every_mode_has_a_plan_with_time_last() -> None:
    for mode, expression in EXPRESSIONS.items():
        assert expression.output.endswith("l"), mode
        for op in expression.operands:
            if op.role != "weight":
                assert op.indices.endswith("l"), (mode, op.name)


def test_auto_policy_is_the_fastest_plan_within_the_memory_budget() -> None:
    """``spectra="auto"``: the fastest predicted candidate whose saved bytes fit the budget, and the
    plan says why; a budget nothing fits keeps the leanest plan and says so."""
    sizes = {"c": 16, "d": 16, "n": 8}
    plans = candidate_plans("dws", sizes, 4, 2000)
    cost = DEFAULT_COSTS["cpu"]
    fastest = min(plans, key=lambda plan: plan_score(plan, cost))
    unlimited = choose_plan("dws", sizes, 4, 2000)
    assert unlimited.key == fastest.key and "no memory budget" in unlimited.extras["policy"]
    budget = fastest.saved_bytes - 1
    bounded = choose_plan("dws", sizes, 4, 2000, memory_budget=budget)
    fitting = [plan for plan in plans if plan.saved_bytes <= budget]
    assert bounded.key == min(fitting, key=lambda plan: plan_score(plan, cost)).key
    assert bounded.saved_bytes <= budget < fastest.saved_bytes
    assert "within the memory budget" in bounded.extras["policy"]
    tiny = choose_plan("dws", sizes, 4, 2000, memory_budget=1)
    assert tiny.saved_bytes == min(plan.saved_bytes for plan in plans)
    assert "no plan fits" in tiny.extras["policy"]
    layer = SSMLayer(16, 16, 8, "dws", memory_budget=budget)
    assert layer.plan(4, 2000).key == bounded.key
