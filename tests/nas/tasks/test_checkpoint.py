"""A training run continued from checkpoints ends exactly where one straight run to the same budget ends, and a
checkpoint that cannot be continued from means training again from step 0, with a warning.

Bit for bit: the continued runs make the same floating-point operations in the same order as the
straight run (same weights, optimiser moments, learning rate at every step, batches and random draws),
on one thread of the same machine, so ``torch.equal`` is the right comparison, not a tolerance.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from nas.tasks import Budget, KeywordSpottingTask, TaskResult, TrainingConfig
from search_spaces import Architecture, FrontendSpec, InputSpec, OutputSpec, Stage
from tests.nas.conftest import KWS_WORDS

CONFIG = TrainingConfig(batch_size=4, lr=1e-2, seed=3, progress=False, threads=1, curve_points=20)
FULL = Budget(steps=9)  # 18 training clips in batches of 4: 5 batches per epoch, so 9 steps cross an epoch


def _arch() -> Architecture:
    """Log-mel frontend and batch norm: buffers (running statistics) as well as parameters must carry over."""
    stages = (
        Stage(block="dws", channels=8, num_states=4, stride=2, norm="batch"),
        Stage(block="s5", channels=16, num_states=8, norm="batch"),
    )
    frontend = InputSpec(length=16000, frontend=FrontendSpec(mels=16))
    return Architecture(task="kws", input=frontend, output=OutputSpec(len(KWS_WORDS)), stages=stages)


def _weights(result: TaskResult) -> dict[str, torch.Tensor]:
    assert result.weights is not None
    return torch.load(result.weights, weights_only=True)


def _assert_same_weights(one: TaskResult, other: TaskResult) -> None:
    first, second = _weights(one), _weights(other)
    assert first.keys() == second.keys()
    different = [name for name in first if not torch.equal(first[name], second[name])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


@pytest.mark.filterwarnings("ignore:SpeechCommands")
@pytest.mark.parametrize("rungs", [(1, 3), (2, 5)], ids=["mid-epoch", "at-the-end-of-an-epoch"])
def test_a_run_continued_through_two_checkpoints_equals_one_straight_run(
    rungs: tuple[int, int], kws_root: Path, tmp_path: Path
) -> None:
    task, arch = KeywordSpottingTask(kws_root, classes=KWS_WORDS), _arch()
    straight = task.run(arch, FULL, CONFIG, schedule=FULL, weights_path=tmp_path / "straight.pt")
    previous = None
    for index, steps in enumerate(rungs):
        checkpoint = tmp_path / f"rung-{index}.pt"
        rung = task.run(
            arch, Budget(steps=steps), CONFIG, schedule=FULL, resume_from=previous, checkpoint_to=checkpoint
        )
        assert rung.status == "completed" and rung.training.steps == steps and rung.checkpoint == str(checkpoint)
        assert rung.warnings == []
        previous = checkpoint
    promoted = task.run(arch, FULL, CONFIG, schedule=FULL, resume_from=previous, weights_path=tmp_path / "promoted.pt")
    assert promoted.status == "completed" and promoted.warnings == []
    assert promoted.training.steps == straight.training.steps == 9
    assert 0 < promoted.training.previous_seconds < promoted.training.seconds
    _assert_same_weights(promoted, straight)
    assert promoted.metrics == straight.metrics
    assert [point.step for point in promoted.training.curve] == [point.step for point in straight.training.curve]
    assert [point.train_loss for point in promoted.training.curve] == [p.train_loss for p in straight.training.curve]


@pytest.mark.filterwarnings("ignore:SpeechCommands")
def test_the_schedule_spans_the_top_budget_not_the_rung(kws_root: Path, tmp_path: Path) -> None:
    """A rung that stops early is not at the bottom of its schedule: its last learning-rate factor is the
    cosine's at 3 of 9 steps, not the end of a schedule of its own."""
    task, arch = KeywordSpottingTask(kws_root, classes=KWS_WORDS), _arch()
    config = TrainingConfig(**{**CONFIG.to_dict(), "curve_points": 9, "warmup_fraction": 0.0})
    rung = task.run(arch, Budget(steps=3), config, schedule=FULL)
    alone = task.run(arch, Budget(steps=3), config)
    # the factor applied at step 3 is taken at progress 2/9 (of the schedule) and 2/3 (of its own budget)
    assert rung.training.curve[-1].lr_factor == pytest.approx(0.5 * (1 + math.cos(math.pi * 2 / 9)))
    assert alone.training.curve[-1].lr_factor == pytest.approx(0.5 * (1 + math.cos(math.pi * 2 / 3)))


@pytest.mark.filterwarnings("ignore:SpeechCommands")
@pytest.mark.parametrize("damage", ["missing", "unreadable", "another run"])
def test_a_checkpoint_that_cannot_be_continued_means_training_again_with_a_warning(
    damage: str, kws_root: Path, tmp_path: Path
) -> None:
    task, arch = KeywordSpottingTask(kws_root, classes=KWS_WORDS), _arch()
    checkpoint = tmp_path / "rung-0.pt"
    if damage == "another run":  # a checkpoint of the same network under another schedule
        task.run(arch, Budget(steps=2), CONFIG, schedule=Budget(steps=20), checkpoint_to=checkpoint)
    else:
        task.run(arch, Budget(steps=2), CONFIG, schedule=FULL, checkpoint_to=checkpoint)
    if damage == "missing":
        checkpoint.unlink()
    elif damage == "unreadable":
        checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    again = task.run(
        arch, Budget(steps=5), CONFIG, schedule=FULL, resume_from=checkpoint, weights_path=tmp_path / "a.pt"
    )
    assert again.status == "completed" and again.training.steps == 5 and again.training.previous_seconds == 0
    expected = {"missing": "is missing", "unreadable": "is unreadable", "another run": "belongs to another run"}[damage]
    assert len(again.warnings) == 1
    assert again.warnings[0].startswith(f"checkpoint {checkpoint} {expected}")
    assert again.warnings[0].endswith("; trained again from step 0")
    fresh = task.run(arch, Budget(steps=5), CONFIG, schedule=FULL, weights_path=tmp_path / "fresh.pt")
    _assert_same_weights(again, fresh)  # the fallback is the training the continuation would have been


@pytest.mark.parametrize("seed", [0, 5])
def test_an_epoch_resumed_part_way_yields_the_rest_of_the_same_order(seed: int) -> None:
    """The order is torch's own shuffle (``DataLoader(shuffle=True)`` with the epoch's generator), and a loader
    that starts at batch k yields exactly the batches after the first k."""
    from torch.utils.data import DataLoader

    from nas.tasks.base import Task

    items, config = list(range(37)), TrainingConfig(seed=seed, batch_size=4)
    for epoch in range(3):
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        torch_order = [
            int(item) for batch in DataLoader(items, batch_size=4, shuffle=True, generator=generator) for item in batch
        ]
        ours = [
            int(item)
            for batch in Task._loader(items, config, shuffle=True, epoch=epoch, collate=None)
            for item in batch
        ]
        rest = Task._loader(items, config, shuffle=True, epoch=epoch, collate=None, first_batch=3)
        assert ours == torch_order and sorted(ours) == items
        assert [int(item) for batch in rest for item in batch] == ours[12:] and len(rest) == 10 - 3
