"""Supernet training (sandwich rule, distillation, resumable checkpoints) and estimates, on tiny generated data."""

from __future__ import annotations

import dataclasses
import math
import random
import re
from pathlib import Path

import pytest
import torch

from centaurus.supernet import Supernet
from nas.cost import score
from nas.supernet import (
    SandwichSettings,
    SupernetCheckpointError,
    check_checkpoint_space,
    distillation_loss,
    estimate,
    load_supernet,
    train_supernet,
)
from nas.supernet import _checkpoint as checkpoint_module
from nas.supernet._train import _PathView
from nas.tasks import Budget, DenoisingTask, KeywordSpottingTask, TrainingConfig
from search_spaces import FrontendSpec, InputSpec, OutputSpec, SearchSpace, StageChoices
from tests.nas.conftest import KWS_WORDS

CONFIG = TrainingConfig(batch_size=4, eval_batch_size=8, progress=False, threads=1, seed=3)


def tiny_kws_space(name: str = "tiny-kws-mel", channels: tuple[int, ...] = (4, 8)) -> SearchSpace:
    """16 log-mel bands at 100 frames/s, two stages of a few channels, four block types, elastic everything."""
    stage = StageChoices(
        block=("dws", "s5", "neck", "group"),
        channels=channels,
        num_states=(2, 4),
        groups=(2,),
        bottleneck_ratio=(0.5,),
        depth=(1, 2),
        stride=(1, 2),
        norm=("batch",),
    )
    return SearchSpace(
        name=name,
        task="kws",
        input=InputSpec(length=16000, frontend=FrontendSpec(mels=16)),
        output=OutputSpec(len(KWS_WORDS)),
        stages=(stage, stage),
    )


def _task(root: Path) -> KeywordSpottingTask:
    return KeywordSpottingTask(root, classes=KWS_WORDS)


class _KilledTask(KeywordSpottingTask):
    """Dies (as a killed worker would) at the first path loss of step ``die_at_step`` (1-based)."""

    def __init__(self, root: Path, die_at_step: int, paths_per_step: int) -> None:
        super().__init__(root, classes=KWS_WORDS)
        self.calls, self.limit = 0, (die_at_step - 1) * paths_per_step

    def step_loss(self, model, batch, device):  # type: ignore[no-untyped-def]
        if self.calls >= self.limit:
            raise KeyboardInterrupt("killed")
        self.calls += 1
        return super().step_loss(model, batch, device)


def _sandwich_loss_on(supernet: Supernet, task: KeywordSpottingTask, batch: object) -> float:
    with torch.no_grad():
        supernet.eval()
        archs = (supernet.largest(), supernet.smallest())
        return sum(task.step_loss(_PathView(supernet, a), batch, torch.device("cpu")).item() for a in archs)


def test_sandwich_training_runs_every_path_and_lowers_the_loss(kws_root: Path) -> None:
    task = _task(kws_root)
    space = tiny_kws_space()
    torch.manual_seed(CONFIG.seed)
    initial = Supernet(space)
    batch = next(iter(task.train_batches(initial.largest(), CONFIG, 0)))  # type: ignore[arg-type]
    before = _sandwich_loss_on(initial, task, batch)
    settings = SandwichSettings(random_paths=1, distill=True, distill_weight=0.5, largest_block="s5")
    result = train_supernet(space, task, "10steps", CONFIG, sandwich=settings)
    assert result.run.status == "completed", result.run.reason
    assert result.run.steps == 10
    assert result.paths_trained == 10 * settings.paths_per_step == 30
    assert result.run.curve and all(math.isfinite(point.train_loss) for point in result.run.curve)
    after = _sandwich_loss_on(result.supernet, task, batch)
    assert after < before


def test_uniform_training_without_the_ends_trains_only_drawn_paths(
    kws_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ends=False``: every path of a step is a uniform draw; the largest and smallest are never forced in."""
    seen: list[str] = []
    original = _PathView.forward

    def recording(view: _PathView, x: torch.Tensor) -> torch.Tensor:
        seen.append(view.arch.id)  # type: ignore[attr-defined]
        return original(view, x)

    monkeypatch.setattr(_PathView, "forward", recording)
    space = tiny_kws_space()
    settings = SandwichSettings(random_paths=2, ends=False)
    result = train_supernet(space, _task(kws_root), "6steps", CONFIG, sandwich=settings)
    assert result.run.status == "completed", result.run.reason
    assert result.paths_trained == len(seen) == 6 * settings.paths_per_step == 12
    expected_rng = random.Random(CONFIG.seed)  # the sampler's own generator: the same draws, in order
    assert seen == [space.random(expected_rng).id for _ in range(12)]
    ends = {result.supernet.largest().id, result.supernet.smallest().id}  # type: ignore[attr-defined]
    assert not ends & set(seen)  # (a draw could hit an end; this seed's twelve do not)


def test_resume_after_a_kill_equals_an_uninterrupted_run(kws_root: Path, tmp_path: Path) -> None:
    space = tiny_kws_space()
    settings = SandwichSettings(random_paths=1, checkpoint_every=2)
    whole = train_supernet(space, _task(kws_root), "5steps", CONFIG, sandwich=settings, checkpoint_to=tmp_path / "a.pt")
    assert whole.run.status == "completed" and whole.run.steps == 5

    killed = _KilledTask(kws_root, die_at_step=4, paths_per_step=settings.paths_per_step)
    with pytest.raises(KeyboardInterrupt):
        train_supernet(space, killed, "5steps", CONFIG, sandwich=settings, checkpoint_to=tmp_path / "b.pt")
    resumed = train_supernet(
        space, _task(kws_root), "5steps", CONFIG, sandwich=settings, checkpoint_to=tmp_path / "b.pt"
    )
    assert resumed.resumed_at == 2 and resumed.run.steps == 5
    assert resumed.paths_trained == 3 * settings.paths_per_step
    expected, got = whole.supernet.state_dict(), resumed.supernet.state_dict()
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    assert [p.train_loss for p in whole.run.curve] == pytest.approx([p.train_loss for p in resumed.run.curve])


def test_a_checkpoint_written_before_the_ends_setting_continues(kws_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "supernet.pt"
    settings = SandwichSettings(random_paths=0, checkpoint_every=1)
    train_supernet(tiny_kws_space(), _task(kws_root), "2steps", CONFIG, sandwich=settings, checkpoint_to=path)
    payload = torch.load(path, weights_only=False)
    del payload["identity"]["sandwich"]["ends"]  # what an earlier version wrote: it always trained the ends
    torch.save(payload, path)
    again = train_supernet(tiny_kws_space(), _task(kws_root), "2steps", CONFIG, sandwich=settings, checkpoint_to=path)
    assert again.resumed_at == 2 and again.run.status == "completed"
    uniform = SandwichSettings(random_paths=1, ends=False, checkpoint_every=1)
    with pytest.raises(SupernetCheckpointError, match=r"another training run \(sandwich differ"):
        train_supernet(tiny_kws_space(), _task(kws_root), "2steps", CONFIG, sandwich=uniform, checkpoint_to=path)


def test_foreign_checkpoints_are_refused(kws_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "supernet.pt"
    settings = SandwichSettings(random_paths=0)
    train_supernet(tiny_kws_space(), _task(kws_root), "1steps", CONFIG, sandwich=settings, checkpoint_to=path)
    other = tiny_kws_space("other", channels=(4, 6))
    with pytest.raises(SupernetCheckpointError, match=r"another search space \('tiny-kws-mel'"):
        train_supernet(other, _task(kws_root), "1steps", CONFIG, sandwich=settings, checkpoint_to=path)
    with pytest.raises(SupernetCheckpointError, match=r"another training run \(schedule differ"):
        train_supernet(tiny_kws_space(), _task(kws_root), "2steps", CONFIG, sandwich=settings, checkpoint_to=path)
    # a study estimates on a checkpoint only if every architecture of its space is a path the checkpoint trained
    check_checkpoint_space(path, tiny_kws_space())
    fewer_blocks = tiny_kws_space("dws-s5")
    fewer_blocks = dataclasses.replace(
        fewer_blocks,
        stages=tuple(
            dataclasses.replace(s, block=("dws", "s5"), groups=(), bottleneck_ratio=()) for s in fewer_blocks.stages
        ),
    )
    check_checkpoint_space(path, fewer_blocks)  # a sub-space, as `compare` estimates
    with pytest.raises(SupernetCheckpointError, match=r"stages\[0\]\.channels: got choices \[6\] that the supernet"):
        check_checkpoint_space(path, other)
    written = re.escape(checkpoint_module.package_version())
    monkeypatch.setattr(checkpoint_module, "package_version", lambda: "99.0")
    with pytest.raises(SupernetCheckpointError, match=rf"written by centaurus-nas {written}, this is 99\.0"):
        load_supernet(path)
    with pytest.raises(SupernetCheckpointError, match="written by centaurus-nas"):
        estimate(path, [], _task(kws_root))  # refused before anything is evaluated... once there is work
    monkeypatch.undo()
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SupernetCheckpointError, match="unreadable"):
        load_supernet(tmp_path / "junk.pt")


def test_estimate_returns_the_ordinary_metrics_for_many_architectures(kws_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "supernet.pt"
    space = tiny_kws_space()
    settings = SandwichSettings(random_paths=1)
    trained = train_supernet(space, _task(kws_root), "3steps", CONFIG, sandwich=settings, checkpoint_to=path)
    rng = random.Random(0)
    archs = [trained.supernet.largest(), trained.supernet.smallest(), *(trained.supernet.sample(rng) for _ in range(3))]
    task = _task(kws_root)
    from_file = estimate(path, archs, task, CONFIG, calibration_batches=2)
    assert len(from_file) == len(archs)
    for metrics in from_file:
        assert set(metrics) == set(KeywordSpottingTask.metrics)
        assert 0.0 <= metrics["accuracy"] <= 1.0 and math.isfinite(metrics["test_loss"])
    from_memory = estimate(trained.supernet, archs, task, CONFIG, calibration_batches=2)
    assert from_memory == from_file
    # every estimated architecture is one the cost model prices: as many parameters as the network extracted
    for arch in archs:
        extracted = trained.supernet.extract(arch)
        assert score(arch, batch=2).params == sum(p.numel() for p in extracted.parameters())  # type: ignore[arg-type]


def test_finetuned_estimates_train_copies_and_leave_the_supernet_alone(kws_root: Path) -> None:
    space = tiny_kws_space()
    trained = train_supernet(space, _task(kws_root), "2steps", CONFIG, sandwich=SandwichSettings(random_paths=1))
    supernet = trained.supernet
    before = {name: tensor.clone() for name, tensor in supernet.state_dict().items()}
    archs = [supernet.largest(), supernet.smallest()]
    task = _task(kws_root)
    plain = estimate(supernet, archs, task, CONFIG, calibration_batches=2)
    tuned = estimate(supernet, archs, task, CONFIG, calibration_batches=2, finetune_steps=3)
    again = estimate(supernet, archs, task, CONFIG, calibration_batches=2, finetune_steps=3)
    assert tuned == again  # the same batches and seed for every path: repeatable
    assert [m["test_loss"] for m in tuned] != [m["test_loss"] for m in plain]  # the paths did train
    after = supernet.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)  # on copies
    assert estimate(supernet, archs, task, CONFIG, calibration_batches=2) == plain
    with pytest.raises(ValueError, match=r"^finetune_steps: got -1; allowed: an integer >= 0$"):
        estimate(supernet, archs, task, CONFIG, finetune_steps=-1)


def test_distillation_losses_vanish_at_the_teacher() -> None:
    logits = torch.randn(3, 5)
    assert distillation_loss("kws", logits, logits, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss("kws", torch.zeros(3, 5), logits, 2.0).item() > 0
    frames = torch.randn(2, 4, 7)
    assert distillation_loss("asr", frames, frames, 1.0).item() == pytest.approx(0.0, abs=1e-6)
    wave = torch.randn(2, 1, 2048)
    assert distillation_loss("denoise", wave, wave, 1.0).item() == pytest.approx(0.0, abs=1e-6)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"supernet\.random_paths"):
        SandwichSettings(random_paths=-1)
    with pytest.raises(ValueError, match=r"supernet\.checkpoint_every"):
        SandwichSettings(checkpoint_every=0)
    with pytest.raises(ValueError, match=r"supernet\.largest_block: got 'wide'"):
        SandwichSettings(largest_block="wide")
    with pytest.raises(ValueError, match=r"supernet\.distill: got true with ends false; allowed: false"):
        SandwichSettings(ends=False, distill=True)
    with pytest.raises(ValueError, match=r"supernet\.random_paths: got 0 with ends false; allowed: an integer >= 1"):
        SandwichSettings(ends=False, random_paths=0)
    with pytest.raises(ValueError, match=r"supernet\.ends: got 'no'; allowed: true or false"):
        SandwichSettings(ends="no")  # type: ignore[arg-type]
    assert Budget.parse("600s").seconds == 600


def test_denoise_supernet_trains_with_distillation_and_is_estimated(denoise_root: Path) -> None:
    stage = StageChoices(block=("dws", "s5"), channels=(4, 8), num_states=(2,), stride=(2, 4), norm=("batch",))
    space = SearchSpace(
        name="tiny-denoise",
        task="denoise",
        input=InputSpec(length=2048),
        output=OutputSpec(1),
        stages=(stage, StageChoices(block=("dws", "s5"), channels=(4, 8), num_states=(2,), norm=("batch",))),
    )
    task = DenoisingTask(denoise_root)
    settings = SandwichSettings(random_paths=1, distill=True)
    trained = train_supernet(space, task, "2steps", CONFIG, sandwich=settings)
    assert trained.run.status == "completed", trained.run.reason
    assert trained.paths_trained == 2 * 3
    config = TrainingConfig(batch_size=4, eval_batch_size=2, max_eval_items=2, progress=False, threads=1)
    archs = [trained.supernet.largest(), trained.supernet.smallest()]
    results = estimate(trained.supernet, archs, task, config, calibration_batches=1)
    assert [set(metrics) for metrics in results] == [set(DenoisingTask.metrics)] * 2
