"""The budgeted training loop shared by every task.

It owns what the tasks have in common: the schedule clock, gradient clipping, the learning curve,
progress display, and the rule that a non-finite loss or gradient ends the run with a ``failed``
status and its reason instead of raising (a search must be able to record it and go on).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sized

import torch
from torch import nn

from nas.tasks.budget import Budget
from nas.tasks.config import TrainingConfig
from nas.tasks.optim import apply_schedule, make_optimizer
from nas.tasks.progress import progress_bar
from nas.tasks.results import CurvePoint, TrainingRun

Batches = Callable[[int], Iterable[object]]
"""``epoch -> batches`` of that epoch; a ``None`` batch (every item unreadable) is skipped."""
StepLoss = Callable[[nn.Module, object], torch.Tensor]
"""``(model, batch) -> scalar loss`` on the model's device."""


def train(
    model: nn.Module,
    batches: Batches,
    step_loss: StepLoss,
    budget: Budget,
    config: TrainingConfig,
    *,
    description: str = "training",
) -> TrainingRun:
    """Train ``model`` in place until ``budget`` is spent; never raises for non-finite values."""
    optimizer = make_optimizer(model, config)
    parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    model.train()
    steps, epoch, skipped = 0, 0, 0
    curve: list[CurvePoint] = []
    window_loss, window_steps, next_point = 0.0, 0, 1.0 / config.curve_points
    started = time.perf_counter()
    progress = 0.0

    def record(seconds: float, epochs: float, lr_factor: float) -> None:
        nonlocal window_loss, window_steps
        if window_steps:
            curve.append(CurvePoint(steps, epochs, seconds, progress, window_loss / window_steps, lr_factor))
        window_loss, window_steps = 0.0, 0

    def finish(status: str, reason: str | None, epochs: float) -> TrainingRun:
        return TrainingRun(status, reason, steps, epochs, time.perf_counter() - started, tuple(curve), skipped)  # type: ignore[arg-type]

    with progress_bar(description, enabled=config.progress) as bar:
        while True:
            epoch_batches = batches(epoch)
            per_epoch = len(epoch_batches) if isinstance(epoch_batches, Sized) else None
            if per_epoch == 0:
                return finish("failed", "the training split yields no batches", float(epoch))
            seen = 0
            for batch in epoch_batches:
                seen += 1
                if batch is None:
                    skipped += 1
                    continue
                epochs = epoch + (seen / per_epoch if per_epoch else 0.0)
                lr_factor = apply_schedule(optimizer, progress, config.warmup_fraction)
                loss = step_loss(model, batch)
                if not torch.isfinite(loss.detach()).all():
                    record(time.perf_counter() - started, epochs, lr_factor)
                    return finish("failed", f"non-finite training loss ({loss.item()}) at step {steps + 1}", epochs)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
                if not math.isfinite(norm.item()):
                    record(time.perf_counter() - started, epochs, lr_factor)
                    return finish("failed", f"non-finite gradient norm ({norm.item()}) at step {steps + 1}", epochs)
                optimizer.step()
                steps += 1
                window_loss += loss.item()
                window_steps += 1
                seconds = time.perf_counter() - started
                progress = budget.progress(steps, epochs, seconds)
                bar.update(progress, f"loss {loss.item():.4f}")
                if progress >= next_point or progress >= 1.0:
                    record(seconds, epochs, lr_factor)
                    next_point = (math.floor(progress * config.curve_points) + 1) / config.curve_points
                if progress >= 1.0:
                    return finish("completed", None, epochs)
            if seen == 0 or seen == skipped:
                return finish("failed", f"no readable training batch in epoch {epoch}", float(epoch))
            epoch += 1
            if per_epoch is None:
                progress = budget.progress(steps, float(epoch), time.perf_counter() - started)
                if progress >= 1.0:
                    record(time.perf_counter() - started, float(epoch), 0.0)
                    return finish("completed", None, float(epoch))
