"""Budgets parse, validate and measure progress; the optimiser groups and schedule are as documented."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from centaurus import SSMLayer
from centaurus.networks import build
from nas.errors import TaskConfigError
from nas.tasks import Budget, TrainingConfig
from nas.tasks.optim import SSM_DYNAMICS, apply_schedule, make_optimizer, schedule_factor
from search_spaces import Architecture


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300s", Budget(seconds=300.0)),
        ("5m", Budget(seconds=300.0)),
        ("1.5h", Budget(seconds=5400.0)),
        ("2000steps", Budget(steps=2000)),
        ("3epochs", Budget(epochs=3.0)),
        ("0.5ep", Budget(epochs=0.5)),
        ("3epochs, 600s", Budget(epochs=3.0, seconds=600.0)),
        ("1e3steps", Budget(steps=1000)),
    ],
)
def test_budget_parse(text: str, expected: Budget) -> None:
    assert Budget.parse(text) == expected
    assert Budget.parse(str(expected)) == expected  # str() round-trips


@pytest.mark.parametrize("text", ["", "300", "fast", "10 parsecs", "-5s", "0s", "2.5steps", "1s,2s"])
def test_budget_parse_rejects_with_allowed_forms(text: str) -> None:
    with pytest.raises(TaskConfigError, match="budget"):
        Budget.parse(text)


def test_budget_needs_a_limit() -> None:
    with pytest.raises(TaskConfigError, match="no limit"):
        Budget()


def test_progress_is_the_largest_fraction_used_and_saturates() -> None:
    budget = Budget(epochs=2, steps=100, seconds=60)
    assert budget.progress(10, 0.5, 3.0) == pytest.approx(0.25)  # epochs lead
    assert budget.progress(80, 0.5, 3.0) == pytest.approx(0.8)  # steps lead
    assert budget.progress(10, 0.1, 90.0) == 1.0


def test_scaled_budget() -> None:
    assert Budget(steps=10, seconds=100).scaled(0.25) == Budget(steps=2, seconds=25)
    assert Budget(steps=1).scaled(0.01) == Budget(steps=1)


def test_schedule_warms_up_then_decays_to_zero() -> None:
    assert schedule_factor(0.0, 0.1) == pytest.approx(1e-3)
    assert schedule_factor(0.05, 0.1) == pytest.approx(0.5)
    assert schedule_factor(0.1, 0.1) == pytest.approx(1.0)
    assert schedule_factor(0.55, 0.1) == pytest.approx(0.5)
    assert schedule_factor(1.0, 0.1) == pytest.approx(0.0, abs=1e-12)
    values = [schedule_factor(p / 100, 0.1) for p in range(10, 101)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert schedule_factor(0.5, 0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


def test_optimizer_groups_give_ssm_dynamics_their_own_rate_and_no_decay() -> None:
    arch = Architecture.load("studies/architectures/kws-example.yaml")
    model = build(arch)
    config = TrainingConfig(lr=3e-3, ssm_lr=5e-4, weight_decay=0.05)
    optimizer = make_optimizer(model, config)
    by_name = {group["name"]: group for group in optimizer.param_groups}
    ids = {name: {id(p) for p in group["params"]} for name, group in by_name.items()}
    for name, parameter in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in SSM_DYNAMICS:
            assert id(parameter) in ids["ssm_dynamics"], name
        elif parameter.ndim <= 1:
            assert id(parameter) in ids["vectors"], name
        else:
            assert id(parameter) in ids["weights"], name
    assert sum(len(group["params"]) for group in optimizer.param_groups) == len(list(model.parameters()))
    assert by_name["ssm_dynamics"]["lr"] == 5e-4 and by_name["ssm_dynamics"]["weight_decay"] == 0.0
    assert by_name["weights"]["weight_decay"] == 0.05 and by_name["vectors"]["weight_decay"] == 0.0
    apply_schedule(optimizer, 0.55, 0.1)
    assert by_name["weights"]["lr"] == pytest.approx(1.5e-3)
    assert by_name["ssm_dynamics"]["lr"] == pytest.approx(2.5e-4)


@pytest.mark.parametrize(
    ("field", "value"),
    [("batch_size", 0), ("lr", -1.0), ("warmup_fraction", 1.0), ("device", "tpu"), ("grad_clip", 0.0)],
)
def test_training_config_names_the_bad_field(field: str, value: object) -> None:
    with pytest.raises(TaskConfigError, match=f"training.{field}"):
        TrainingConfig(**{field: value})


def test_training_config_round_trips_and_rejects_unknown_keys() -> None:
    config = TrainingConfig(seed=7, lr=1e-3)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(TaskConfigError, match="unknown key"):
        TrainingConfig.from_dict({"learning_rate": 1.0})


def test_optimizer_covers_every_trainable_parameter_once() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    optimizer = make_optimizer(model, TrainingConfig())
    seen = [id(p) for group in optimizer.param_groups for p in group["params"]]
    assert sorted(seen) == sorted(id(p) for p in model.parameters())


def test_the_dynamics_group_is_what_each_ssm_layer_lists_not_a_name_match() -> None:
    """A layer says which parameters are its dynamics; a parameter elsewhere that happens to be called
    ``a_re`` is an ordinary weight."""
    layer = SSMLayer(4, 4, 3, "s5")
    assert layer.dynamics_parameters() == (layer.a_re, layer.a_im, layer.log_dt)
    assert tuple(name for name, _ in layer.named_parameters() if name in SSM_DYNAMICS) == SSMLayer.DYNAMICS
    impostor = torch.nn.Module()
    impostor.a_re = torch.nn.Parameter(torch.zeros(3, 3))
    model = torch.nn.ModuleDict({"ssm": layer, "other": impostor})
    optimizer = make_optimizer(model, TrainingConfig())
    by_name = {group["name"]: {id(p) for p in group["params"]} for group in optimizer.param_groups}
    assert by_name["ssm_dynamics"] == {id(p) for p in layer.dynamics_parameters()}
    assert id(impostor.a_re) in by_name["weights"]
