"""``centaurus-nas compare``: the studies it runs, the numbers it reports, and the files it writes.

The analysis is checked on studies filled with hand-made trials, against hypervolumes, ideal boxes
and capped maxima worked out by hand; one slow test runs the real command end to end on Ray.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest

from nas.cli import main
from nas.compare import HETEROGENEOUS, analyse, comparison_variants
from nas.compare.cli import write_results
from nas.study import StudyConfig, attrs
from nas.study.errors import StudyConfigError
from nas.study.storage import open_study
from tests.support.studies import trained_config


def _base(tmp_path: Path, data: Path, **changes: Any) -> StudyConfig:
    """A one-trial trained study of the tiny space; a comparison varies its space and seed."""
    differences = {
        "name": "cmp",
        "reference": {"accuracy": 0.0, "train_flops": 10},
        "budget": {"trials": 1},
        "training": {"budget": "2steps", "batch_size": 4},
        "sampler": {"name": "random", "seed": 7},
        "keep_weights": False,
    }
    return trained_config(tmp_path, data, **(differences | changes))


def test_variants_differ_only_in_space_and_seed(tmp_path: Path) -> None:
    base = _base(tmp_path, tmp_path)
    variants = comparison_variants(base, blocks=("dws", "s5"), seeds=(0, 3), out=tmp_path / "out")
    assert [(v.space, v.seed) for v in variants] == [
        (HETEROGENEOUS, 0), (HETEROGENEOUS, 3), ("dws", 0), ("dws", 3), ("s5", 0), ("s5", 3),
    ]  # fmt: skip
    assert len({v.config.name for v in variants}) == 6
    for variant in variants:
        config = variant.config
        assert config.sampler.seed == config.training.seed == variant.seed
        assert config.output_dir.parent == tmp_path / "out" / "studies"
        assert (config.objectives, config.training_budget, config.trials) == (base.objectives, base.training_budget, 1)
        blocks = {block for stage in config.space.stages for block in stage.block}
        assert blocks == (
            {"dws", "s5", "full", "group", "neck"} & blocks if variant.space == HETEROGENEOUS else {variant.space}
        )
    assert variants[0].config.space == base.space


@pytest.mark.parametrize(
    ("blocks", "seeds", "message"),
    [
        (("dws", "lstm"), (0,), r"^compare --blocks: got lstm; allowed: dws, s5, neck, full, group$"),
        (("dws",), (), r"^compare --seeds: got none"),
        (("dws",), (1, 1), r"^compare --seeds: got \[1, 1\]; allowed: distinct integers$"),
    ],
)
def test_bad_variants_are_named(tmp_path: Path, blocks: tuple[str, ...], seeds: tuple[int, ...], message: str) -> None:
    with pytest.raises(StudyConfigError, match=message):
        comparison_variants(_base(tmp_path, tmp_path), blocks=blocks, seeds=seeds, out=tmp_path)


# (accuracy, train_flops) per (space, seed); reference (0, 10)
POINTS = {
    (HETEROGENEOUS, 0): [(0.5, 2.0), (0.8, 6.0)],
    (HETEROGENEOUS, 1): [(0.6, 4.0)],
    ("dws", 0): [(0.4, 5.0)],
    ("dws", 1): [(0.7, 3.0), (0.2, 1.0)],
}


def _filled(tmp_path: Path) -> tuple[StudyConfig, list]:
    base = _base(tmp_path, tmp_path)
    variants = comparison_variants(base, blocks=("dws",), seeds=(0, 1), out=tmp_path / "out")
    for variant in variants:
        study = open_study(variant.config)
        for accuracy, flops in POINTS[(variant.space, variant.seed)]:
            user = {attrs.SUMMARY: f"{variant.space} net", attrs.COST: {"train_flops": flops}}
            study.add_trial(optuna.trial.create_trial(values=[accuracy, flops], user_attrs=user))
        study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))  # never counted
    return base, variants


def test_hypervolume_is_normalised_by_the_ideal_box_and_caps_take_the_best_inside(tmp_path: Path) -> None:
    base, variants = _filled(tmp_path)
    result = analyse(variants, base, caps=[2.0, 4.0, 10.0])
    studies = result.studies.set_index(["space", "seed"])
    # hand-computed areas in (accuracy up from 0, flops down from 10)
    raw = {
        (HETEROGENEOUS, 0): 0.5 * 8 + (0.8 - 0.5) * 4,  # 5.2
        (HETEROGENEOUS, 1): 0.6 * 6,  # 3.6
        ("dws", 0): 0.4 * 5,  # 2.0
        ("dws", 1): 0.2 * 9 + (0.7 - 0.2) * 7,  # 5.3
    }
    box = (0.8 - 0.0) * (10 - 1.0)  # ideal point over every trial: accuracy 0.8, flops 1.0
    for key, area in raw.items():
        assert studies.loc[key, "hypervolume_raw"] == pytest.approx(area)
        assert studies.loc[key, "hypervolume"] == pytest.approx(area / box)
        assert studies.loc[key, "complete"] == len(POINTS[key])
    assert studies.loc[(HETEROGENEOUS, 0), "best_accuracy_cap1"] == 0.5
    assert math.isnan(studies.loc[(HETEROGENEOUS, 1), "best_accuracy_cap1"])
    assert studies.loc[("dws", 1), "best_accuracy_cap2"] == 0.7
    assert studies.loc[(HETEROGENEOUS, 0), "best_accuracy_cap3"] == 0.8
    spaces = result.spaces.set_index("space")
    assert spaces.loc[HETEROGENEOUS, "hypervolume_mean"] == pytest.approx((5.2 + 3.6) / 2 / box)
    assert spaces.loc["dws", "hypervolume_vs_heterogeneous"] == pytest.approx((2.0 + 5.3) / (5.2 + 3.6))
    assert "heterogeneous" in result.verdict and "dws" in result.verdict
    assert "The claim holds on this measure (but not in every seed)." in result.verdict  # wins seed 0, loses seed 1
    assert "Heterogeneous had the highest hypervolume in 1 of 2 seeds" in result.verdict


def test_default_caps_are_the_cost_quartiles_and_a_derived_reference_is_reported(tmp_path: Path) -> None:
    base, variants = _filled(tmp_path)
    result = analyse(variants, StudyConfig.from_dict({**base.to_dict(), "reference": None}))
    flops = pd.Series([2.0, 6.0, 4.0, 5.0, 3.0, 1.0])
    quartiles = [flops.quantile(q) for q in (0.25, 0.5, 0.75)]  # 2.25, 3.5, 4.75: shown to 2 significant digits
    assert result.caps == pytest.approx([2.2, 3.5, 4.8]) and result.caps == [float(f"{q:.1e}") for q in quartiles]
    assert result.reference_derived and result.reference["train_flops"] > 6.0


def test_results_are_written_as_tables_figure_and_summary(tmp_path: Path) -> None:
    base, variants = _filled(tmp_path)
    result = analyse(variants, base, caps=[2.0, 4.0, 10.0])
    written = write_results(result, base, tmp_path / "results", "centaurus-nas compare x.yaml")
    names = {path.name for path in written}
    assert {"trials.csv", "studies.csv", "spaces.csv", "fronts.html", "summary.md"} <= names
    assert len(pd.read_csv(tmp_path / "results" / "trials.csv")) == sum(len(p) for p in POINTS.values())
    summary = (tmp_path / "results" / "summary.md").read_text()
    assert "## Verdict" in summary and "centaurus-nas compare x.yaml" in summary and "| heterogeneous |" in summary
    html = (tmp_path / "results" / "fronts.html").read_text()
    assert "plotly" in html.lower() and "dws front" in html


@pytest.mark.slow
def test_compare_command_runs_every_study_and_analyses_them(tmp_path: Path, kws_root: Path) -> None:
    import yaml

    base = _base(tmp_path, kws_root, reference=None)  # derived from the trials: any real FLOPs exceed 10
    path = tmp_path / "cmp.yaml"
    path.write_text(yaml.safe_dump(base.to_dict()))
    out = tmp_path / "results"
    try:
        assert main(["compare", str(path), "--blocks", "dws,s5", "--seeds", "0", "--out", str(out), "--quiet"]) == 0
    finally:
        import ray

        ray.shutdown()  # the command started a local Ray in this process: later tests start their own
    studies = pd.read_csv(out / "studies.csv")
    assert list(studies["space"]) == [HETEROGENEOUS, "dws", "s5"] and list(studies["complete"]) == [1, 1, 1]
    trials = pd.read_csv(out / "trials.csv")
    assert trials["accuracy"].between(0, 1).all()
    # rerunning continues nothing (every study is done) and redoes the analysis from storage
    assert main(["compare", str(path), "--blocks", "dws,s5", "--seeds", "0", "--out", str(out), "--analyse-only"]) == 0
    assert pd.read_csv(out / "studies.csv").equals(studies)
