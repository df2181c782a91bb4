"""End to end: a weight-sharing study (studies/kws/weight-sharing-tiny.yaml) on generated data.

The real supernet trains a few steps, estimates a handful of architectures, and two of them are
retrained stand-alone; then ``status``, ``pareto`` and ``export --best`` read the study as a user
would. The numbers mean nothing at this size: what is checked is that every piece is there and
each kind of trial says what it is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from optuna.trial import TrialState

from nas.cli import main
from nas.study import InProcessBackend, StudyConfig, attrs, run_study
from nas.study.weight_sharing import CONFIRMED, ESTIMATED, SUPERNET_ATTR, complete_of_kind

STUDY = Path(__file__).parents[3] / "studies" / "kws" / "weight-sharing-tiny.yaml"


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> StudyConfig:
    folder = tmp_path_factory.mktemp("weight-sharing")
    data = yaml.safe_load(STUDY.read_text())
    data.update(data=str(folder / "data"), output=str(folder / "runs"))
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return StudyConfig.load(path)


@pytest.fixture(scope="module")
def searched(tiny_config: StudyConfig) -> StudyConfig:
    run_study(tiny_config, backend=InProcessBackend())  # trials in this process: no Ray start-up in a unit test
    return tiny_config


def test_estimates_and_confirmations_are_stored_with_what_they_are(searched: StudyConfig) -> None:
    from nas.study.storage import load_existing_study

    study = load_existing_study(searched)
    supernet = study.user_attrs[SUPERNET_ATTR]
    assert Path(supernet["checkpoint"]).is_file() and supernet["steps"] == 4
    estimated = [t for t in study.trials if t.user_attrs.get(attrs.ESTIMATED_BY) == "supernet"]
    assert len(estimated) == 6
    assert complete_of_kind(study, ESTIMATED), "some estimate completed"
    for trial in complete_of_kind(study, ESTIMATED):
        assert 0.0 <= trial.user_attrs[attrs.METRICS]["accuracy"] <= 1.0
        assert trial.values[1] == trial.user_attrs[attrs.COST]["train_flops"]
    confirmations = complete_of_kind(study, CONFIRMED)
    assert len(confirmations) == 2
    assert sorted(t.user_attrs[attrs.CONFIRM_PICK] for t in confirmations) == ["random", "top"]
    for trial in confirmations:
        source = study.trials[trial.user_attrs[attrs.CONFIRMS]]
        assert source.state == TrialState.COMPLETE and attrs.ESTIMATED_BY in source.user_attrs
        assert trial.user_attrs[attrs.ARCH_ID] == source.user_attrs[attrs.ARCH_ID]
        assert trial.user_attrs[attrs.ESTIMATE]["accuracy"] == source.values[0]
        assert trial.user_attrs[attrs.TRAINING]["steps"] == 3 and Path(trial.user_attrs[attrs.WEIGHTS]).is_file()


def test_status_and_pareto_show_both_fronts_and_the_correlations(
    searched: StudyConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(searched.output_dir)
    assert main(["status", folder]) == 0
    status = capsys.readouterr().out
    assert "confirmed Pareto front (stand-alone training):" in status and "estimated Pareto front" in status
    assert "estimate vs stand-alone, accuracy: Kendall tau" in status and "Spearman rho" in status
    assert main(["pareto", folder]) == 0
    assert "Confirmed Pareto front" in capsys.readouterr().out
    front = pd.read_csv(searched.output_dir / "pareto.csv")
    assert set(front["front"]) == {"estimated", "confirmed"}


def test_export_best_picks_a_confirmed_trial(
    searched: StudyConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nas.study.storage import load_existing_study

    out = tmp_path / "export"
    argv = ["export", str(searched.output_dir), "--best", "accuracy", "--out", str(out)]
    assert main([*argv, "--no-onnx", "--no-torchscript", "--no-streaming", "--quiet"]) == 0
    study = load_existing_study(searched)
    confirmed = {t.number for t in complete_of_kind(study, CONFIRMED)}
    folders = [p for p in out.iterdir() if p.name.startswith("trial-")]
    exported = [int(p.name.split("-")[1]) for p in folders]
    assert exported and set(exported) <= confirmed
    card = (folders[0] / "MODEL_CARD.md").read_text()
    assert "Stand-alone confirmation of estimated trial" in card
