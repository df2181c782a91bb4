"""Study configs: a valid one loads and round-trips; every rule rejects bad input with its own message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.tasks import Budget

VALID: dict[str, Any] = {
    "name": "kws-quick",
    "task": "kws",
    "data": "data/kws",
    "space": "kws",
    "objectives": [
        {"name": "accuracy", "direction": "maximize"},
        {"name": "train_flops", "direction": "minimize"},
    ],
    "constraints": ["train_peak_bytes <= 4GiB", {"name": "params", "max": "2M"}],
    "sampler": {"name": "nsga2", "seed": 3, "options": {"population_size": 8}},
    "budget": {"trials": 12, "wall_time": "30m"},
    "training": {"budget": "60s", "batch_size": 16},
    "fidelity": {"min_fraction": 0.25, "eta": 2},
    "resources": {"cpus": 1, "gpus": 0.5},
    "retries": 2,
    "cost": {"batch": 32},
    "reference": {"accuracy": 0.0, "train_flops": "50G"},
}


def _with(**changes: Any) -> dict[str, Any]:
    data = {**VALID, **changes}
    return {key: value for key, value in data.items() if value is not ...}


def test_a_valid_config_loads_with_everything_resolved(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(VALID))
    config = StudyConfig.load(path)
    assert config.name == "kws-quick" and config.task == "kws"
    assert config.data == (tmp_path / "data/kws").resolve()  # relative to the config file
    assert config.space.name == "kws"
    assert config.objective_names == ["accuracy", "train_flops"]
    assert config.directions == ["maximize", "minimize"]
    assert [str(c) for c in config.constraints] == ["train_peak_bytes <= 4294967296", "params <= 2000000"]
    assert config.constraints[0].limit == 4 * 2**30
    assert config.sampler.seed == 3 and config.sampler.options == {"population_size": 8}
    assert config.trials == 12 and config.wall_time == 1800.0
    assert config.training_budget == Budget(seconds=60.0)
    assert config.training.batch_size == 16 and config.training.seed == 3  # the sampler's seed by default
    assert config.training.progress is False
    assert config.fidelity.rungs == (0.25, 0.5, 1.0)
    assert config.resources.gpus == 0.5 and config.retries == 2
    assert config.storage_url == f"sqlite:///{(tmp_path / 'runs' / 'kws-quick' / 'study.db').resolve()}"


def test_round_trip_through_to_dict(tmp_path: Path) -> None:
    config = StudyConfig.from_dict(VALID, base=tmp_path)
    again = StudyConfig.from_dict(config.to_dict(), base=tmp_path)
    assert again.to_dict() == config.to_dict()
    assert again.constraints == config.constraints and again.training == config.training


def test_the_artifact_folder_defaults_to_the_study_folder_and_moves_with_it(tmp_path: Path) -> None:
    default = StudyConfig.from_dict(VALID, base=tmp_path)
    assert default.artifacts is None and default.artifacts_dir == default.output_dir
    assert "artifacts" not in default.to_dict()  # stored configs of earlier studies stay as they were
    inside = StudyConfig.from_dict(_with(artifacts="runs/kws-quick/ckpt"), base=tmp_path)
    assert inside.artifacts_dir == (tmp_path / "runs" / "kws-quick" / "ckpt").resolve()
    assert inside.to_dict(stored_in=inside.output_dir)["artifacts"] == "ckpt"  # relative: the folder relocates
    shared = StudyConfig.from_dict(_with(artifacts="/mnt/shared/ckpt"), base=tmp_path)
    assert shared.to_dict(stored_in=shared.output_dir)["artifacts"] == "/mnt/shared/ckpt"
    with pytest.raises(StudyConfigError, match=r"^artifacts: got 7; allowed: a folder path"):
        StudyConfig.from_dict(_with(artifacts=7), base=tmp_path)


def test_defaults_are_minimal() -> None:
    config = StudyConfig.from_dict(
        {"name": "s", "task": "asr", "data": "d", "space": "asr-dws", "objectives": {"cer": "minimize"}}
    )
    assert config.trials == 20 and config.sampler.name == "nsga2" and not config.fidelity.enabled
    assert config.fidelity.rungs == (1.0,)


def test_inline_and_file_spaces(tmp_path: Path) -> None:
    from search_spaces import builtin_space

    space = builtin_space("kws-s5")
    assert StudyConfig.from_dict(_with(space=space.to_dict())).space == space
    space.save(tmp_path / "space.yaml")
    assert StudyConfig.from_dict(_with(space="space.yaml"), base=tmp_path).space == space


BAD: list[tuple[dict[str, Any], str]] = [
    (_with(nmae="x"), "study: got <unknown key 'nmae'>"),
    (_with(name=...), "study: got <no 'name'>"),
    (_with(name="my study/1"), "name: got 'my study/1'; allowed: 1-100 characters"),
    (_with(name=""), "name: got ''"),
    (_with(task="tts"), "task: got 'tts'; allowed: kws, denoise, asr"),
    (_with(data=5), "data: got 5; allowed: a folder path"),
    (_with(space="imagenet"), "space: got 'imagenet'; allowed: a built-in name"),
    (_with(space="missing.yaml"), "space: got 'missing.yaml'; allowed: a built-in space"),
    (_with(space="asr"), "space: got <a space for task 'asr'>; allowed: a space for the study's task 'kws'"),
    (_with(space={"name": "x"}), "space: "),
    (_with(objectives=[]), "objectives: got []; allowed: a non-empty list"),
    (
        _with(objectives=[{"name": "bleu", "direction": "maximize"}]),
        "objectives[0].name: got 'bleu'; allowed: accuracy",
    ),
    (
        _with(objectives=[{"name": "accuracy", "direction": "max"}]),
        "objectives[0].direction: got 'max'; allowed: maximize, minimize",
    ),
    (_with(objectives=[{"name": "params", "direction": "minimize"}] * 2), "objectives: got <params more than once>"),
    (_with(objectives=[{"name": "params"}]), "objectives[0]: got <no 'direction'>"),
    (_with(constraints="params < 5"), "constraints: got 'params < 5'"),
    (_with(constraints=["params < 5"]), "constraints[0]: got 'params < 5'"),
    (_with(constraints=["accuracy >= 0.9"]), "constraints[0].name: got 'accuracy'; allowed: a cost field"),
    (_with(constraints=["params <= lots"]), "constraints[0].limit: got 'lots'; allowed: a number"),
    (_with(constraints=["params <= 0"]), "constraints[0].limit: got '0'; allowed: a limit some architecture can meet"),
    (_with(constraints=[{"name": "params", "max": 1, "min": 0}]), "constraints[0]: got"),
    (_with(sampler={"name": "cmaes"}), "sampler.name: got 'cmaes'; allowed: nsga2, nsga3, tpe, random, gp"),
    (_with(sampler={"seed": -1}), "sampler.seed: got -1; allowed: an integer >= 0"),
    (_with(budget={}), "budget: got {}; allowed: at least one of trials"),
    (_with(budget={"trials": 0}), "budget.trials: got 0; allowed: an integer >= 1"),
    (_with(budget={"wall_time": "soon"}), "budget.wall_time: got 'soon'; allowed: a number of seconds"),
    (_with(training={"budget": "forever"}), "training.budget: got 'forever'"),
    (_with(training={"learning_rate": 1}), "training: unknown key(s) learning_rate"),
    (_with(training={"batch_size": 0}), "training.batch_size: got 0"),
    (_with(fidelity={"min_fraction": 0}), "fidelity.min_fraction: got 0; allowed: a number in (0, 1]"),
    (_with(fidelity={"eta": 1}), "fidelity.eta: got 1; allowed: an integer >= 2"),
    (_with(resources={"cpus": 0}), "resources.cpus: got 0; allowed: a number > 0"),
    (_with(resources={"gpus": 1.5}), "resources.gpus: got 1.5; allowed: a fraction of one GPU"),
    (_with(resources={"memory": 1}), "resources: got <unknown key 'memory'>"),
    (_with(retries=-1), "retries: got -1; allowed: an integer >= 0"),
    (_with(cost={"batch": "big"}), "cost.batch: got 'big'"),
    (_with(storage="redis://x"), "storage: got 'redis://x'; allowed: sqlite:///PATH"),
    (_with(ray={"address": ""}), "ray.address: got ''"),
    (_with(reference={"accuracy": 0}), "reference: got {'accuracy': 0}; allowed: one value for each objective"),
    (_with(reference={"accuracy": 0, "train_flops": "x"}), "reference.train_flops: got 'x'"),
    (_with(keep_weights="yes"), "keep_weights: got 'yes'; allowed: true or false"),
]


@pytest.mark.parametrize(
    ("data", "message"), BAD, ids=[message.split(":")[0] + f"-{i}" for i, (_, message) in enumerate(BAD)]
)
def test_each_rule_names_the_field_and_what_is_allowed(data: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyConfigError) as error:
        StudyConfig.from_dict(data)
    assert message in str(error.value)


def test_files_that_are_missing_or_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(StudyConfigError, match="not a file"):
        StudyConfig.load(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(StudyConfigError, match="not valid YAML"):
        StudyConfig.load(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(StudyConfigError, match="study: got"):
        StudyConfig.load(listed)


def test_a_rounded_min_fraction_reaches_the_full_budget_in_whole_steps_of_eta() -> None:
    """0.3333 x 3 = 0.9999 is the full budget, not one more rung just below it (a 3-rung study for 2 rungs)."""
    from nas.study.config import FidelityConfig

    assert FidelityConfig(min_fraction=0.3333, eta=3).rungs == (0.3333, 1.0)
    assert FidelityConfig(min_fraction=0.111, eta=3).rungs == (0.111, 0.333, 1.0)
    assert FidelityConfig(min_fraction=0.99, eta=3).rungs == (0.99, 1.0)
