"""What ``centaurus-nas train ARCH`` reads from ARCH: a spec file, an exported trial, or an export folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.export import ExportError, resolve_architecture, resolve_source
from nas.study import StudyConfig, attrs
from nas.tasks import Budget, TrainingConfig, make_task
from search_spaces import Architecture
from tests.nas.export.conftest import run_cli
from tests.support.studies import stored_study


@pytest.fixture(scope="module")
def export_root(trained_study: StudyConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export folder holding exactly one trial (trial 1: spec, weights, card; no graphs, for speed)."""
    out = tmp_path_factory.mktemp("one-trial")
    argv = [str(trained_study.output_dir), "--trial", "1", "--out", str(out), "--no-onnx", "--no-torchscript"]
    assert run_cli([*argv, "--quiet"]) == 0
    return out


def _recorded(config: StudyConfig, number: int) -> Architecture:
    return Architecture.from_dict(stored_study(config).trials[number].user_attrs[attrs.ARCH])


def test_every_form_of_arch_resolves_to_the_trial_architecture(
    export_root: Path, trained_study: StudyConfig, tmp_path: Path
) -> None:
    expected = _recorded(trained_study, 1)
    (trial_folder,) = [path for path in export_root.iterdir() if path.is_dir()]
    spec = expected.save(tmp_path / "spec.yml")
    for given in (
        export_root,
        trial_folder,
        trial_folder / "architecture.yaml",
        trial_folder / "architecture.json",
        spec,
    ):
        assert resolve_architecture(given) == expected, given
    plain = tmp_path / "train-output"  # a `train` output folder: a spec, no manifest
    plain.mkdir()
    expected.save(plain / "architecture.yaml")
    assert resolve_architecture(plain) == expected


def test_an_export_folder_with_several_trials_names_them(trained_study: StudyConfig, tmp_path: Path) -> None:
    argv = [str(trained_study.output_dir), "--trial", "0", "2", "--out", str(tmp_path), "--no-onnx", "--no-torchscript"]
    assert run_cli([*argv, "--quiet"]) == 0
    names = sorted(json.loads((tmp_path / "index.json").read_text())["exports"], key=lambda e: e["trial"])
    listed = ", ".join(entry["folder"] for entry in names)
    with pytest.raises(ExportError, match=f"which holds 2 trial\\(s\\) \\({listed}\\); allowed: one of them"):
        resolve_architecture(tmp_path)


def test_bad_arch_arguments_say_what_is_allowed(tmp_path: Path) -> None:
    allowed = "allowed: an architecture spec"
    with pytest.raises(ExportError, match=f"which does not exist; {allowed}"):
        resolve_architecture(tmp_path / "missing")
    with pytest.raises(ExportError, match=f"a folder with no spec or export manifest; {allowed}"):
        resolve_architecture(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ExportError, match=allowed):
        resolve_architecture(tmp_path / "notes.txt")


def test_without_data_the_export_supplies_dataset_and_training_configuration(
    export_root: Path, trained_study: StudyConfig, kws_root: Path
) -> None:
    source = resolve_source(export_root)
    assert source.data == kws_root and source.budget == "3steps"
    command_line = TrainingConfig(lr=0.01, device="cpu", threads=1, progress=False)  # lr typed; the rest defaults
    data, config = source.resolve(None, command_line)
    assert data == kws_root
    assert config.batch_size == trained_study.training.batch_size == 4  # from the study
    assert config.lr == 0.01  # typed on the command line: it wins
    assert (config.device, config.threads, config.progress) == ("cpu", 1, False)  # the machine's settings


def test_with_data_the_command_line_is_used_as_given(export_root: Path, tmp_path: Path) -> None:
    command_line = TrainingConfig(progress=False)
    assert resolve_source(export_root).resolve(tmp_path, command_line) == (tmp_path, command_line)


def test_a_spec_file_still_needs_data(tmp_path: Path, trained_study: StudyConfig) -> None:
    spec = _recorded(trained_study, 0).save(tmp_path / "spec.json")
    with pytest.raises(ExportError, match="--data: missing"):
        resolve_source(spec).resolve(None, TrainingConfig())


def test_a_moved_dataset_asks_for_data(export_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "export"
    copy.mkdir()
    (trial_folder,) = [path for path in export_root.iterdir() if path.is_dir()]
    manifest = json.loads((trial_folder / "export.json").read_text())
    manifest["study"]["data"] = str(tmp_path / "gone")
    (copy / "export.json").write_text(json.dumps(manifest))
    (copy / "architecture.json").write_text((trial_folder / "architecture.json").read_text())
    with pytest.raises(ExportError, match="does not exist here; allowed: pass --data"):
        resolve_source(copy).resolve(None, TrainingConfig())


@pytest.mark.filterwarnings("ignore:SpeechCommands")  # the shared tiny corpus has 3 of the space's 35 classes
def test_an_export_retrains_from_its_own_record(export_root: Path) -> None:
    """What ``centaurus-nas train EXPORT_DIR --budget 2steps`` does once nas/_train_cli.py uses resolve_source."""
    source = resolve_source(export_root)
    data, config = source.resolve(None, TrainingConfig(progress=False, threads=1))
    result = make_task(source.architecture.task, data).run(source.architecture, Budget.parse("2steps"), config)
    assert result.status == "completed" and result.training.steps == 2
    assert result.config["batch_size"] == 4
