"""Each task trains a real network on a tiny corpus: the loss falls, metrics come back, NaN fails cleanly."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from nas.cli import main
from nas.errors import TaskConfigError
from nas.tasks import Budget, KeywordSpottingTask, TrainingConfig, make_task
from search_spaces import OutputSpec
from tests.nas.conftest import KWS_WORDS, tiny_architecture

CONFIG = TrainingConfig(batch_size=4, lr=1e-2, seed=0, progress=False, curve_points=100, threads=1)


def _task(name: str, root: Path):
    return KeywordSpottingTask(root, classes=KWS_WORDS) if name == "kws" else make_task(name, root)


@pytest.fixture
def roots(kws_root: Path, denoise_root: Path, asr_root: Path) -> dict[str, Path]:
    return {"kws": kws_root, "denoise": denoise_root, "asr": asr_root}


@pytest.mark.parametrize("name", ["kws", "denoise", "asr"])
def test_a_few_steps_lower_the_loss_on_a_fixed_batch(name: str, roots: dict[str, Path]) -> None:
    task, arch = _task(name, roots[name]), tiny_architecture(name)
    model = task.build_model(arch, seed=0)
    batch = next(iter(task.train_batches(arch, CONFIG, epoch=0)))
    device = torch.device("cpu")
    with torch.no_grad():
        before = task.step_loss(model, batch, device).item()
    run = task.fit(model, arch, Budget(steps=12), CONFIG)
    with torch.no_grad():
        after = task.step_loss(model, batch, device).item()
    assert run.status == "completed" and run.steps == 12
    # The denoiser starts as the identity (zero-initialised correction), so its loss falls more slowly.
    assert after < (0.99 if name == "denoise" else 0.9) * before, (before, after)


@pytest.mark.parametrize("name", ["kws", "denoise", "asr"])
def test_run_returns_every_metric_and_a_json_ready_result(name: str, roots: dict[str, Path]) -> None:
    task, arch = _task(name, roots[name]), tiny_architecture(name)
    result = task.run(arch, Budget(steps=3), CONFIG)
    assert result.status == "completed", result.reason
    assert set(result.metrics) == set(task.metrics)
    assert result.training.steps == 3 and result.seed == 0 and result.budget == "3steps"
    assert result.parameters == sum(p.numel() for p in task.build_model(arch, 0).parameters())
    json.dumps(result.to_dict())


def test_kws_accuracy_is_learned_on_separable_classes(kws_root: Path) -> None:
    task, arch = _task("kws", kws_root), tiny_architecture("kws")
    result = task.run(arch, Budget(epochs=20), CONFIG)
    assert result.metrics["accuracy"] == 1.0  # three chords, one per class: any working trainer separates them


def test_denoising_improves_si_snr(denoise_root: Path) -> None:
    task, arch = _task("denoise", denoise_root), tiny_architecture("denoise")
    result = task.run(arch, Budget(steps=40), TrainingConfig(batch_size=4, lr=1e-2, progress=False, threads=1))
    assert result.metrics["si_snri"] > 0.0
    assert result.metrics["stoi"] > 0 and result.metrics["pesq"] > 1.0


def test_kws_trains_with_augmentation(kws_root: Path) -> None:
    config = TrainingConfig(**{**CONFIG.to_dict(), "augment": True})
    result = _task("kws", kws_root).run(tiny_architecture("kws"), Budget(steps=3), config)
    assert result.status == "completed" and result.training.steps == 3


def test_runs_are_deterministic_per_seed(kws_root: Path) -> None:
    task, arch = _task("kws", kws_root), tiny_architecture("kws")
    first = task.run(arch, Budget(steps=4), CONFIG)
    second = task.run(arch, Budget(steps=4), CONFIG)
    other = task.run(arch, Budget(steps=4), TrainingConfig(**{**CONFIG.to_dict(), "seed": 1}))
    assert [p.train_loss for p in first.training.curve] == [p.train_loss for p in second.training.curve]
    assert first.metrics == second.metrics
    assert [p.train_loss for p in first.training.curve] != [p.train_loss for p in other.training.curve]


def test_a_nan_loss_gives_a_failed_result_not_an_exception(kws_root: Path) -> None:
    class Diverging(KeywordSpottingTask):
        def step_loss(self, model, batch, device):
            return super().step_loss(model, batch, device) * float("nan")

    result = Diverging(kws_root, classes=KWS_WORDS).run(tiny_architecture("kws"), Budget(steps=5), CONFIG)
    assert result.status == "failed"
    assert "non-finite training loss" in result.reason
    assert result.metrics == {}


def test_a_diverging_learning_rate_is_caught(kws_root: Path) -> None:
    """No monkey-patching: a huge learning rate with no clipping blows the weights up for real."""
    config = TrainingConfig(batch_size=4, lr=1e12, ssm_lr=1e12, grad_clip=1e30, warmup_fraction=0.0, progress=False)
    result = _task("kws", kws_root).run(tiny_architecture("kws"), Budget(steps=30), config)
    assert result.status == "failed" and "non-finite" in result.reason


def test_weights_are_saved_on_request(kws_root: Path, tmp_path: Path) -> None:
    task, arch = _task("kws", kws_root), tiny_architecture("kws")
    path = tmp_path / "w" / "weights.pt"
    result = task.run(arch, Budget(steps=2), CONFIG, weights_path=path)
    assert (
        result.status == "completed" and result.weights is not None and Path(result.weights) == path and path.is_file()
    )
    state = torch.load(result.weights)
    model = task.build_model(arch, seed=0)
    initial = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    assert set(state) == set(initial)  # every parameter and buffer, nothing else
    model.load_state_dict(state)  # strict: raises on a missing or unexpected key, or a wrong shape
    assert all(bool(torch.isfinite(tensor).all()) for tensor in state.values() if tensor.is_floating_point())
    trained = [name for name in initial if not torch.equal(state[name], initial[name])]
    assert trained, "the saved weights are the initial ones: the two training steps were not saved"


def test_an_architecture_for_another_task_or_size_is_refused(kws_root: Path) -> None:
    task = _task("kws", kws_root)
    with pytest.raises(TaskConfigError, match="task"):
        task.run(tiny_architecture("denoise"), Budget(steps=1), CONFIG)
    wrong = replace(tiny_architecture("kws"), output=OutputSpec(35))  # 35 logits for a 3-word task
    with pytest.raises(TaskConfigError, match=r"output\.size"):
        task.run(wrong, Budget(steps=1), CONFIG)


def test_train_cli_end_to_end(asr_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "asr.yaml"
    tiny_architecture("asr").save(spec)
    out = tmp_path / "run"
    code = main(
        [
            "train",
            str(spec),
            "--data",
            str(asr_root),
            "--budget",
            "2steps",
            "--batch-size",
            "2",
            "--quiet",
            "--threads",
            "1",
            "--out",
            str(out),
            "--save-weights",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "cer" in printed and "wer" in printed and str(out / "result.json") in printed
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "completed" and result["training"]["steps"] == 2
    assert (out / "weights.pt").exists() and (out / "architecture.yaml").exists()


def test_train_cli_reports_a_bad_budget(asr_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "asr.yaml"
    tiny_architecture("asr").save(spec)
    assert main(["train", str(spec), "--data", str(asr_root), "--budget", "soon"]) == 2
    assert "budget" in capsys.readouterr().err


def test_train_cli_shows_the_layout_for_a_missing_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "kws.yaml"
    tiny_architecture("asr").save(spec)
    assert main(["train", str(spec), "--data", str(tmp_path / "nowhere"), "--budget", "1steps", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "nowhere" in error and "expected" in error
