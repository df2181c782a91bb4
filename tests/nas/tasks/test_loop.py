"""The budgeted loop: it learns, honours each budget kind, records a curve, and fails cleanly on NaN/inf."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nas.tasks import Budget, TrainingConfig
from nas.tasks.loop import train

CONFIG = TrainingConfig(lr=0.05, ssm_lr=0.05, seed=0, progress=False, warmup_fraction=0.0, curve_points=10)


def _regression_batches(batches_per_epoch: int = 8):
    generator = torch.Generator().manual_seed(0)
    true_weight = torch.randn(4, 1, generator=generator)
    data = []
    for _ in range(batches_per_epoch):
        x = torch.randn(16, 4, generator=generator)
        data.append((x, x @ true_weight))
    return lambda epoch, first: data[first:]


def _mse(model: nn.Module, batch: object) -> torch.Tensor:
    x, y = batch  # type: ignore[misc]
    return nn.functional.mse_loss(model(x), y)


def test_loss_falls_and_steps_budget_is_exact() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    run = train(model, _regression_batches(), _mse, Budget(steps=60), CONFIG)
    assert run.status == "completed" and run.reason is None
    assert run.steps == 60
    assert run.epochs == pytest.approx(60 / 8)
    assert run.curve[-1].train_loss < 0.1 * run.curve[0].train_loss
    assert [point.step for point in run.curve] == sorted(point.step for point in run.curve)
    assert 8 <= len(run.curve) <= 11
    assert run.curve[-1].progress == 1.0


def test_epoch_budget_stops_at_the_epoch_boundary() -> None:
    run = train(nn.Linear(4, 1), _regression_batches(8), _mse, Budget(epochs=2), CONFIG)
    assert run.steps == 16 and run.epochs == pytest.approx(2.0)


def test_seconds_budget_stops_in_time() -> None:
    run = train(nn.Linear(4, 1), _regression_batches(8), _mse, Budget(seconds=0.3), CONFIG)
    assert run.status == "completed"
    assert 0.3 <= run.seconds < 2.0


def test_unreadable_batches_are_skipped_and_counted() -> None:
    data = _regression_batches(4)(0, 0)
    with_gaps = [data[0], None, data[1], None, data[2], data[3]]
    run = train(nn.Linear(4, 1), lambda epoch, first: with_gaps[first:], _mse, Budget(epochs=1), CONFIG)
    assert run.status == "completed" and run.steps == 4 and run.skipped_batches == 2


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_ends_the_run_with_a_reason(bad: float) -> None:
    calls = {"n": 0}

    def sometimes_bad(model: nn.Module, batch: object) -> torch.Tensor:
        calls["n"] += 1
        loss = _mse(model, batch)
        return loss * bad if calls["n"] == 5 else loss

    run = train(nn.Linear(4, 1), _regression_batches(), sometimes_bad, Budget(steps=50), CONFIG)
    assert run.status == "failed"
    assert "non-finite training loss" in run.reason and "step 5" in run.reason
    assert run.steps == 4
    assert all(math.isfinite(point.train_loss) for point in run.curve)


def test_non_finite_gradient_ends_the_run_with_a_reason() -> None:
    class Exploding(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(()))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (self.weight * x).sqrt().sum() * 0  # finite loss, d/dw of sqrt at 0 is inf

    run = train(Exploding(), lambda epoch, first: [torch.zeros(3)], lambda m, b: m(b), Budget(steps=3), CONFIG)
    assert run.status == "failed" and "non-finite gradient norm" in run.reason


def test_an_empty_training_split_fails_with_a_reason() -> None:
    run = train(nn.Linear(4, 1), lambda epoch, first: [], _mse, Budget(steps=3), CONFIG)
    assert run.status == "failed" and "no batches" in run.reason
