"""The budgeted training loop shared by every task.

It owns what the tasks have in common: the schedule clock, gradient clipping, the learning curve,
progress display, and the rule that a non-finite loss or gradient ends the run with a ``failed``
status and its reason instead of raising (a search must be able to record it and go on).

A run may continue an earlier one (a multi-fidelity promotion): it starts from that run's
:class:`~nas.tasks.checkpoint.LoopState` and optimiser, and stops at its own ``budget``, counted
from the network's first step, while the learning-rate schedule (and the learning curve) follow a
longer ``schedule`` budget. Runs that stop at budgets b1 < b2 < ... and continue each other make
exactly the steps of one run to the last budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sized

import torch
from torch import nn

from nas.tasks._progress import progress_bar
from nas.tasks.budget import Budget
from nas.tasks.checkpoint import LoopState
from nas.tasks.config import TrainingConfig
from nas.tasks.optim import apply_schedule, make_optimizer
from nas.tasks.results import CurvePoint, TrainingRun

Batches = Callable[[int, int], Iterable[object]]
"""``(epoch, first) -> the batches of that epoch from batch `first` on``; a ``None`` batch (every item
unreadable) is skipped."""
StepLoss = Callable[[nn.Module, object], torch.Tensor]
"""``(model, batch) -> scalar loss`` on the model's device."""


def train(
    model: nn.Module,
    batches: Batches,
    step_loss: StepLoss,
    budget: Budget,
    config: TrainingConfig,
    *,
    schedule: Budget | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    state: LoopState | None = None,
    description: str = "training",
) -> TrainingRun:
    """Train ``model`` in place until ``budget`` is spent; never raises for non-finite values.

    ``schedule`` (default: ``budget``) is the budget the learning-rate schedule spans. ``optimizer``
    and ``state`` continue an earlier run (default: a new optimiser, from step 0); ``state`` is
    advanced in place, so that a checkpoint can be written from it afterwards.
    """
    schedule = schedule or budget
    optimizer = optimizer or make_optimizer(model, config)
    state = state if state is not None else LoopState()
    if state.next_point is None:
        state.next_point = 1.0 / config.curve_points
    parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    model.train()
    previous_seconds = state.seconds
    started = time.perf_counter() - previous_seconds
    progress = schedule.progress(state.steps, state.epochs, state.seconds)

    def record(seconds: float, epochs: float, lr_factor: float) -> None:
        if state.window_steps:
            loss = state.window_loss / state.window_steps
            state.curve.append(CurvePoint(state.steps, epochs, seconds, progress, loss, lr_factor))
        state.window_loss, state.window_steps = 0.0, 0

    def finish(status: str, reason: str | None, epochs: float) -> TrainingRun:
        seconds = time.perf_counter() - started
        curve = tuple(state.curve)
        return TrainingRun(status, reason, state.steps, epochs, seconds, curve, state.skipped, previous_seconds)  # type: ignore[arg-type]

    if state.steps and budget.progress(state.steps, state.epochs, state.seconds) >= 1.0:
        return finish("completed", None, state.epochs)  # continued from a run that went this far already
    with progress_bar(description, enabled=config.progress) as bar:
        while True:
            epoch_batches = batches(state.epoch, state.batch)
            per_epoch = state.batch + len(epoch_batches) if isinstance(epoch_batches, Sized) else None
            if per_epoch == 0:
                return finish("failed", "the training split yields no batches", float(state.epoch))
            for batch in epoch_batches:
                state.batch += 1
                if batch is None:
                    state.skipped += 1
                    state.epoch_skipped += 1
                    continue
                epochs = state.epoch + (state.batch / per_epoch if per_epoch else 0.0)
                lr_factor = apply_schedule(optimizer, progress, config.warmup_fraction)
                loss = step_loss(model, batch)
                if not torch.isfinite(loss.detach()).all():
                    record(time.perf_counter() - started, epochs, lr_factor)
                    return finish(
                        "failed", f"non-finite training loss ({loss.item()}) at step {state.steps + 1}", epochs
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
                if not math.isfinite(norm.item()):
                    record(time.perf_counter() - started, epochs, lr_factor)
                    return finish(
                        "failed", f"non-finite gradient norm ({norm.item()}) at step {state.steps + 1}", epochs
                    )
                optimizer.step()
                state.steps += 1
                state.window_loss += loss.item()
                state.window_steps += 1
                state.seconds, state.epochs = time.perf_counter() - started, epochs
                progress = schedule.progress(state.steps, epochs, state.seconds)
                used = budget.progress(state.steps, epochs, state.seconds)
                bar.update(used, f"loss {loss.item():.4f}")
                if progress >= state.next_point or progress >= 1.0:
                    record(state.seconds, epochs, lr_factor)
                    state.next_point = (math.floor(progress * config.curve_points) + 1) / config.curve_points
                if used >= 1.0:
                    if state.batch == per_epoch:  # the epoch is over: a continuation starts the next one
                        _next_epoch(state)
                    return finish("completed", None, epochs)
            if state.batch == 0 or state.batch == state.epoch_skipped:
                return finish("failed", f"no readable training batch in epoch {state.epoch}", float(state.epoch))
            _next_epoch(state)
            if per_epoch is None:
                state.seconds, state.epochs = time.perf_counter() - started, float(state.epoch)
                progress = schedule.progress(state.steps, state.epochs, state.seconds)
                if budget.progress(state.steps, state.epochs, state.seconds) >= 1.0:
                    record(state.seconds, state.epochs, 0.0)
                    return finish("completed", None, state.epochs)


def _next_epoch(state: LoopState) -> None:
    state.epoch += 1
    state.batch = 0
    state.epoch_skipped = 0
