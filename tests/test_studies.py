"""The ready-to-run study configurations in ``studies/`` all validate, and each task has both scales."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.study import StudyConfig

STUDIES = Path(__file__).resolve().parents[1] / "studies"
CONFIGS = sorted(
    path for path in STUDIES.rglob("*.yaml") if "architectures" not in path.parts and "results" not in path.parts
)  # results/ holds what studies wrote (their resolved configs, trained architectures), not configs to run


@pytest.mark.parametrize("path", CONFIGS, ids=[str(path.relative_to(STUDIES)) for path in CONFIGS])
def test_every_study_config_validates(path: Path) -> None:
    config = StudyConfig.load(path)
    if config.weight_sharing:  # estimates and confirmations, not a trial count, say how much it runs
        assert config.supernet.evaluations >= 1 and config.confirm.top + config.confirm.random >= 1
    else:
        assert config.trials is not None, "ready-to-run studies say how many trials they run"
    if path.parent.name in ("kws", "denoise", "asr"):
        assert config.task == path.parent.name  # and the heterogeneous space (on raw audio or log-mel features)
        assert config.space.name in (config.task, f"{config.task}-mel")


@pytest.mark.parametrize("task", ["kws", "denoise", "asr"])
def test_each_task_has_a_quick_and_a_full_study(task: str) -> None:
    quick, full = StudyConfig.load(STUDIES / task / "quick.yaml"), StudyConfig.load(STUDIES / task / "full.yaml")
    assert quick.resources.gpus == 0 and quick.generate_data is not None  # runs here, on generated data
    assert full.resources.gpus >= 1 and full.generate_data is None  # real datasets, on GPUs


def test_the_studies_readme_gives_the_compare_configs_own_sizes() -> None:
    """The table once said 4 trained KWS architectures under 1.5 GFLOP, 300 steps each, while the YAML ran 3
    under 0.8 GFLOP for 200 steps: the row must say what the configs run."""
    row = next(line for line in (STUDIES / "README.md").read_text().splitlines() if "`kws/compare.yaml`" in line)
    kws_text, denoise_text = row.split("; denoising", 1)
    for text, name in ((kws_text, "kws"), (denoise_text, "denoise")):
        config = StudyConfig.load(STUDIES / name / "compare.yaml")
        assert f"{config.trials} trained architectures per study" in text, name
        assert f"{config.training_budget.steps} steps each" in text, name
        for constraint in config.constraints:
            if constraint.name == "train_flops":
                assert f"{constraint.limit / 1e9:g} GFLOP per step" in text, name
