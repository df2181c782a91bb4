"""``centaurus-nas report``: the page, its plots' data checked against independent computations, the tables."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from nas.pareto import hypervolume, non_dominated_mask
from nas.report import collect, report_data, sections, write_report
from nas.report._data import FRONT_COLUMN
from nas.report._figures import DOMINATED_TRACE, FRONT_TRACE, FULL_FRONT_TRACE, PARTIAL_TRACE, pairs
from nas.report._page import ERRORS_ID, render_page
from nas.report.build import table_for_files
from nas.study import StudyConfig, StudyConfigError, attrs
from nas.study.storage import open_study
from nas.study.summary import study_counts
from nas.study.trials import trials_frame
from search_spaces import Architecture
from tests.nas.report.studies import (
    FAILURE,
    HALVING,
    HALVING_ACCURACY,
    PRUNE_REASON,
    THREE,
    TWO,
    cli,
    cost_config,
    fill_hand_made,
    hand_made_config,
    plot_data,
)
from tests.support.local_ray import local_ray
from tests.support.studies import kws_space, stored_study, trained_config


def _evaluated(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Complete trials that are not reused duplicates, straight from Optuna (independent of the report)."""
    return [
        trial for trial in study.get_trials(states=(TrialState.COMPLETE,)) if attrs.DUPLICATE_OF not in trial.user_attrs
    ]


def _numbers(trace: dict) -> set[int]:
    return {int(number) for number in trace.get("customdata", [])}


def _trace(traces: list[dict], name: str) -> dict:
    found = [trace for trace in traces if trace.get("name") == name]
    assert len(found) == 1, f"one trace named {name!r} expected, got {[t.get('name') for t in traces]}"
    return found[0]


# ------------------------------------------------------------------------------- cost-only
def test_report_command_writes_page_csv_and_parquet_and_says_where(
    cost_study: tuple[StudyConfig, optuna.Study], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, study = cost_study
    out = tmp_path / "report"
    assert cli(["report", str(config.output_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("report.html", "trials.csv", "trials.parquet"):
        assert (out / name).is_file()
        assert str(out / name) in printed
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"{config.name}: study report" in page
    assert len(study.trials) == 14 and any(t.state == TrialState.PRUNED for t in study.trials)


def test_default_folder_is_inside_the_study_output(cost_study: tuple[StudyConfig, optuna.Study]) -> None:
    config, _ = cost_study
    assert cli(["report", str(config.output_dir)]) == 0
    assert (config.output_dir / "report" / "report.html").is_file()


def test_page_is_self_contained(cost_study: tuple[StudyConfig, optuna.Study], tmp_path: Path) -> None:
    config, study = cost_study
    page = write_report(study, config, tmp_path).html.read_text(encoding="utf-8")
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, flags=re.IGNORECASE)
    assert tags and not [tag for tag in tags if re.search(r"\b(?:src|href)\s*=", tag, flags=re.IGNORECASE)]
    assert not re.search(r"<script[^>]*src=[\"']?https?:", page, flags=re.IGNORECASE)
    # plotly.js mentions URLs only for map tiles and topojson, which no trace here uses
    kinds = {trace.get("type", "scatter") for traces in plot_data(page).values() for trace in traces}
    assert kinds <= {"scatter", "heatmap", "parcoords", "scatter3d"}
    assert page.count("Plotly.newPlot(") == len([s for s in sections(collect(study, config)) if s.figure])
    assert "plotly.js v" in page  # the library itself is inline
    assert f'id="{ERRORS_ID}"' in page and 'addEventListener("error"' in page
    assert "http-equiv" not in page  # only the live page refreshes itself


def test_pair_front_points_are_the_non_dominated_complete_trials(
    cost_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    config, study = cost_study
    page = write_report(study, config, tmp_path).html.read_text(encoding="utf-8")
    traces = plot_data(page)["plot-pair-train_flops-params"]
    trials = _evaluated(study)
    values = np.array([trial.values for trial in trials])
    mask = non_dominated_mask(values, list(TWO.values()))
    numbers = np.array([trial.number for trial in trials])
    assert 0 < mask.sum() < len(trials)
    assert _numbers(_trace(traces, FRONT_TRACE)) == set(numbers[mask].tolist())
    assert _numbers(_trace(traces, DOMINATED_TRACE)) == set(numbers[~mask].tolist())
    front = _trace(traces, FRONT_TRACE)
    assert front["mode"] == "lines+markers" and front["line"]["shape"] == "hv"  # connected as a staircase
    assert front["x"] == sorted(front["x"])
    hover = front["text"][0]
    for label in ("train FLOPs", "peak memory", "params", "kws |", "train_flops ↓", "params ↑"):
        assert label in hover


def test_three_objectives_have_every_pair_parallel_coordinates_and_3d(
    three_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    config, study = three_study
    page = write_report(study, config, tmp_path).html.read_text(encoding="utf-8")
    plots = plot_data(page)
    names = list(THREE)
    expected = {f"plot-pair-{x}-{y}" for x, y in pairs(names)}
    assert len(expected) == 3 and expected <= set(plots)
    assert {"plot-parallel", "plot-scatter3d", "plot-hypervolume", "plot-choices", "plot-quality"} <= set(plots)
    assert plots["plot-parallel"][0]["type"] == "parcoords"
    trials = _evaluated(study)
    values = np.array([trial.values for trial in trials])
    numbers = np.array([trial.number for trial in trials])
    full = set(numbers[non_dominated_mask(values, list(THREE.values()))].tolist())
    for x, y in pairs(names):
        traces = plots[f"plot-pair-{x}-{y}"]
        columns = [names.index(x), names.index(y)]
        pair_mask = non_dominated_mask(values[:, columns], [THREE[x], THREE[y]])
        assert _numbers(_trace(traces, FRONT_TRACE)) == set(numbers[pair_mask].tolist())
        assert _numbers(_trace(traces, FULL_FRONT_TRACE)) == full - set(numbers[pair_mask].tolist())
        shown = set().union(*(_numbers(trace) for trace in traces))
        assert shown == set(numbers.tolist())
    data = collect(study, config)
    assert set(data.front["number"]) == full


def test_stage_choices_count_every_searched_field_from_the_trial_specs(
    three_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    config, study = three_study
    trials = _evaluated(study)
    values = np.array([trial.values for trial in trials])
    mask = non_dominated_mask(values, list(THREE.values()))
    # the report space searches block, channels and num_states; groups, bottleneck and stride have one choice
    searched = ("block", "channels", "num_states")
    expected: Counter[tuple[int, str, str, str]] = Counter()
    for trial, on_front in zip(trials, mask, strict=True):
        arch = Architecture.from_dict(trial.user_attrs[attrs.ARCH])
        for index, stage in enumerate(arch.stages):
            for name in searched:
                expected[(index, name, str(getattr(stage, name)), "front" if on_front else "others")] += 1
    data = collect(study, config)
    choices = data.choices
    assert set(choices["field"]) == set(searched)
    found = {(int(r.stage), r.field, r.value, r.group): int(r.count) for r in choices.itertuples() if r.count}
    assert found == dict(expected)
    for row in choices.itertuples():
        group_size = int(mask.sum()) if row.group == "front" else int((~mask).sum())
        assert row.total == group_size
        offered = {str(value) for value in getattr(config.space.stages[row.stage], row.field)}
        if row.value in offered:
            assert row.share == pytest.approx(row.count / group_size)
        else:  # e.g. 32 channels at stage 0, which offers 8 and 16: blank, not 0%
            assert math.isnan(row.share) and row.count == 0
    heatmaps = plot_data(write_report(study, config, tmp_path).html.read_text(encoding="utf-8"))["plot-choices"]
    assert [heatmap["type"] for heatmap in heatmaps] == ["heatmap", "heatmap"]
    for heatmap in heatmaps:
        part = choices[choices["group"] == heatmap["meta"]]
        for y, row in zip(heatmap["y"], heatmap["z"], strict=True):
            for x, share in zip(heatmap["x"], row, strict=True):
                (want,) = part[(part["label"] == y) & (part["stage"] == int(x.split()[-1]))]["share"]
                assert share == pytest.approx(want, nan_ok=True)


def test_hypervolume_history_ends_at_the_status_hypervolume_and_names_its_reference(
    cost_study: tuple[StudyConfig, optuna.Study],
) -> None:
    config, study = cost_study
    data = collect(study, config)
    counts = study_counts(study, config)
    assert data.hypervolume == pytest.approx(counts.hypervolume)
    assert np.all(np.diff(data.history["hypervolume"].to_numpy(dtype=float)) >= 0)
    assert len(data.history) == counts.complete
    figure = next(s.figure for s in sections(data) if s.key == "hypervolume")
    assert "reference point derived from the space's cost range" in figure.layout.title.subtitle.text
    assert data.reference is not None and data.reference.values == study.user_attrs["reference_point"]
    assert data.history["share"].iloc[-1] == pytest.approx(counts.share)  # one normalisation for both

    declared = StudyConfig.from_dict({**config.to_dict(), "reference": {"train_flops": "20G", "params": 0}})
    data = collect(study, declared)
    values = np.array([t.values for t in study.get_trials(states=(TrialState.COMPLETE,))])
    assert data.hypervolume == pytest.approx(hypervolume(values, np.array([20e9, 0.0]), list(TWO.values())))
    figure = next(s.figure for s in sections(data) if s.key == "hypervolume")
    assert "declared in the config" in figure.layout.title.subtitle.text


def test_csv_and_parquet_round_trip(cost_study: tuple[StudyConfig, optuna.Study], tmp_path: Path) -> None:
    config, study = cost_study
    files = write_report(study, config, tmp_path)
    expected = table_for_files(collect(study, config))
    parquet = pd.read_parquet(files.parquet)
    pd.testing.assert_frame_equal(parquet, expected, check_dtype=False)
    csv = pd.read_csv(files.csv)
    assert list(csv.columns) == list(expected.columns)
    assert csv["number"].tolist() == expected["number"].tolist()
    assert csv["state"].tolist() == expected["state"].tolist()
    assert csv["summary"].tolist() == expected["summary"].tolist()
    assert csv[FRONT_COLUMN].tolist() == expected[FRONT_COLUMN].tolist()
    for column in ("train_flops", "params", "cost.train_peak_bytes"):
        np.testing.assert_allclose(csv[column].to_numpy(float), expected[column].to_numpy(float), equal_nan=True)
    pruned = csv[csv["state"] == "pruned"]
    assert len(pruned) and pruned["reason"].str.contains("constraint params <= 40000 violated").all()
    assert set(trials_frame(study, config).columns) <= set(csv.columns)


# --------------------------------------------------------------------- accuracy, edge cases
def test_hand_made_study_with_accuracy_duplicate_pruned_failed_and_running(
    hand_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    config, study = hand_study
    data = collect(study, config)
    assert data.quality == "accuracy"
    assert data.evaluated["number"].tolist() == [0, 1, 2, 3, 4]  # the duplicate (5) counts once
    assert sorted(data.front["number"]) == [1, 2, 3]
    page = write_report(study, config, tmp_path).html.read_text(encoding="utf-8")
    plots = plot_data(page)
    traces = plots["plot-pair-train_flops-accuracy"]  # the cost on x, the task metric on y
    assert _numbers(_trace(traces, FRONT_TRACE)) == {1, 2, 3}
    assert _trace(traces, FRONT_TRACE)["line"]["shape"] == "hv"
    quality = plots["plot-quality"]
    assert set().union(*(_numbers(trace) for trace in quality)) == {0, 1, 2, 3, 4}
    names = {trace["name"] for trace in quality}
    assert names == {"dws+s5", "s5 only", "dws+full", "neck+group", "dws only"}
    # the table lists every trial, with its state and reason, escaped
    table = page[page.index('id="trials-table"') :]
    assert len(re.findall(r"<tr class=", table)) == 9
    assert PRUNE_REASON.replace("<", "&lt;") in table
    assert "&lt;script&gt;alert(&#x27;boom&#x27;)&lt;/script&gt; &amp; more" in table
    assert "<script>alert(" not in page
    assert re.search(r'<tr class="fail"><td class="num" data-v="7.0">7</td>', table)
    assert re.search(r'<tr class="running">', table)
    assert FAILURE.split(":")[0] in table


def test_no_complete_trial_yet(tmp_path: Path) -> None:
    config = hand_made_config(tmp_path)
    study = open_study(config)
    fill_hand_made(study, complete=False)
    files = write_report(study, config, tmp_path / "out")
    page = files.html.read_text(encoding="utf-8")
    assert "No complete trials yet" in page and "Plotly.newPlot(" not in page
    assert page.count("<tr class=") == 3 and "&lt;script&gt;" in page
    assert page.rstrip().endswith("</html>")
    assert len(pd.read_parquet(files.parquet)) == 3


def test_empty_study(tmp_path: Path) -> None:
    config = cost_config(tmp_path)
    study = open_study(config)
    files = write_report(study, config, tmp_path / "out")
    page = files.html.read_text(encoding="utf-8")
    assert "No complete trials yet" in page and "no trials yet" in page
    assert "Plotly.newPlot(" not in page and page.rstrip().endswith("</html>")
    assert len(pd.read_csv(files.csv)) == 0 and len(pd.read_parquet(files.parquet)) == 0


def test_one_objective(tmp_path: Path) -> None:
    config = cost_config(tmp_path, objectives={"params": "maximize"}, budget={"trials": 6}, constraints=[])
    from nas.study import run_study

    run_study(config)
    study = stored_study(config)
    page = write_report(study, config, tmp_path / "out").html.read_text(encoding="utf-8")
    plots = plot_data(page)
    assert "plot-objective-params" in plots and not [key for key in plots if key.startswith("plot-pair-")]
    best = max(t.values[0] for t in study.get_trials(states=(TrialState.COMPLETE,)))
    front = _trace(plots["plot-objective-params"], FRONT_TRACE)
    assert 1e4 <= best < 1e6  # drawn in thousands, as the axis title says
    assert front["y"] and front["y"] == pytest.approx([best / 1000] * len(front["y"]))
    figure = next(s.figure for s in sections(collect(study, config)) if s.key == "objective-params")
    assert figure.layout.yaxis.title.text == "params (thousands; higher is better)"
    assert "plot-hypervolume" in plots and "plot-quality" in plots


def test_missing_objective_values_are_left_out_and_said(hand_study: tuple[StudyConfig, optuna.Study]) -> None:
    config, study = hand_study
    frame = trials_frame(study, config)
    frame.loc[frame["number"] == 2, "accuracy"] = math.nan  # on the front with its value; now unknown
    archs = {trial.number: trial.user_attrs[attrs.ARCH] for trial in study.trials}
    data = report_data(frame, archs, config)
    assert 2 not in set(data.front["number"]) and sorted(data.front["number"]) == [1, 3]
    assert any("missing (NaN) objective" in note for note in data.notes)
    assert data.hypervolume is not None and math.isfinite(data.hypervolume)
    page = render_page(data)
    assert "1 trained trial(s) without a value for" in page
    pair = next(s.figure for s in sections(data) if s.key == "pair-train_flops-accuracy")
    assert 2 not in set().union(*(set(trace.customdata) for trace in pair.data))


def test_all_values_missing_gives_no_hypervolume_but_a_page(hand_study: tuple[StudyConfig, optuna.Study]) -> None:
    config, study = hand_study
    frame = trials_frame(study, config)
    frame["accuracy"] = math.nan
    data = report_data(frame, {}, config)
    assert data.reference is None and data.hypervolume is None and data.front.empty
    assert any("cannot derive a reference point" in note for note in data.notes)
    page = render_page(data)
    assert "no hypervolume" in page and page.rstrip().endswith("</html>")


def test_report_of_a_study_that_has_not_started(tmp_path: Path, storage_url: str) -> None:
    config = cost_config(tmp_path, storage=None if storage_url.startswith("sqlite") else storage_url)
    config_file = tmp_path / "study.yaml"
    import yaml

    config_file.write_text(yaml.safe_dump(config.to_dict()))
    file_based = config.storage is None or config.storage.startswith("journal:")  # looking creates no file
    expected = "does not exist yet" if file_based else "which is not in"
    with pytest.raises(StudyConfigError, match=expected):
        cli(["report", str(config_file)])
    assert not (config.output_dir / "study.db").exists()  # looking did not create an empty database


def test_report_of_a_study_named_by_its_storage_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], storage_url: str
) -> None:
    """``report URL#NAME`` on every storage backend: the config comes from the study itself."""
    from nas.study import run_study

    config = cost_config(tmp_path, storage=storage_url)
    run_study(config)
    out = tmp_path / "report"
    assert cli(["report", f"{storage_url}#{config.name}", "--out", str(out)]) == 0
    assert f"report of study {config.name} (14 trials)" in capsys.readouterr().out
    assert f"{config.name}: study report" in (out / "report.html").read_text(encoding="utf-8")
    study = stored_study(config)
    table = pd.read_csv(out / "trials.csv")
    assert table["number"].tolist() == [trial.number for trial in study.trials]
    assert table["state"].tolist() == [trial.state.name.lower() for trial in study.trials]


@pytest.mark.slow
def test_report_of_a_trained_accuracy_study_on_ray(tmp_path: Path, kws_root: Path) -> None:
    """Real training on a local Ray: the metrics come from the workers, the quality view uses accuracy."""

    from nas.study import run_study

    space = kws_space(
        "tiny",
        {"block": ["dws", "s5", "full"], "channels": [8], "num_states": [4], "stride": 4},
        {"block": ["dws", "s5"], "channels": [16], "num_states": [8], "stride": 4},
    )
    budget, training = {"trials": 3}, {"budget": "2steps", "batch_size": 4}
    config = trained_config(tmp_path, kws_root, name="report-ray", space=space, budget=budget, training=training)
    with local_ray("centaurus-nas-report-tests"):
        run_study(config)
    study = stored_study(config)
    data = collect(study, config)
    assert data.quality == "accuracy" and len(data.evaluated) == 3
    assert data.evaluated["metric.accuracy"].tolist() == data.evaluated["accuracy"].tolist()
    page = write_report(study, config, tmp_path / "out").html.read_text(encoding="utf-8")
    plots = plot_data(page)
    quality = plots["plot-quality"]
    assert sorted(n for trace in quality for n in trace["customdata"]) == data.evaluated["number"].tolist()
    assert "train time" in page


def test_the_page_never_shows_a_database_password(hand_study: tuple[StudyConfig, optuna.Study]) -> None:
    config, study = hand_study
    data = dataclasses.replace(collect(study, config), storage_url="postgresql://nas:s3cret@db.example:5432/studies")
    page = render_page(data)
    assert "s3cret" not in page and "postgresql://nas:***@db.example:5432/studies" in page


# -------------------------------------------------------------------------- successive halving
def test_networks_stopped_by_successive_halving_are_drawn_at_their_rung(
    halving_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    config, study = halving_study
    data = collect(study, config)
    assert data.partial["number"].tolist() == [2, 3, 5]  # not 4 (never trained), not 6 (interrupted: its re-run's)
    assert data.front["number"].tolist() == [1] and data.history["number"].tolist() == [0, 1]
    page = write_report(study, config, tmp_path).html.read_text(encoding="utf-8")
    plots = plot_data(page)
    costs = {trial.number: trial.user_attrs[attrs.COST] for trial in study.trials}
    for x, y in pairs(list(HALVING)):
        traces = plots[f"plot-pair-{x}-{y}"]
        stopped = _trace(traces, PARTIAL_TRACE)
        assert _numbers(stopped) == {2, 3, 5}
        assert _numbers(_trace(traces, FRONT_TRACE)) == {1}
        for axis, name in (("x", x), ("y", y)):
            for number, drawn in zip(stopped["customdata"], stopped[axis], strict=True):
                raw = HALVING_ACCURACY[number][-1] if name == "accuracy" else costs[number][name]
                scale = {"accuracy": 1.0, "train_flops": 1e9, "train_peak_bytes": 2.0**20}[name]  # GFLOP, MiB
                assert drawn == pytest.approx(raw / scale)
        figure = next(s.figure for s in sections(data) if s.key == f"pair-{x}-{y}")
        titles = {figure.layout.xaxis.title.text, figure.layout.yaxis.title.text}
        assert titles == {f"{name} ({_unit(name)}{'; ' if _unit(name) else ''}{_better(name)})" for name in (x, y)}
    assert set().union(*(_numbers(trace) for trace in plots["plot-quality"])) == {0, 1, 2, 3, 5}
    assert {int(n) for n in plots["plot-parallel"][0]["dimensions"][-1]["values"]} == {0, 1, 2, 3, 5}
    assert set().union(*(_numbers(trace) for trace in plots["plot-scatter3d"])) == {0, 1, 2, 3, 5}
    hover = _trace(plots["plot-pair-train_flops-accuracy"], PARTIAL_TRACE)["text"][0]
    assert "pruned: values at rung 0 (33% of the budget)" in hover
    assert "3 trained network(s) stopped at a lower rung" in page


def _unit(name: str) -> str:
    return {"accuracy": "", "train_flops": "GFLOP", "train_peak_bytes": "MiB"}[name]


def _better(name: str) -> str:
    return "higher is better" if HALVING[name] == "maximize" else "lower is better"


def test_the_tables_give_every_trial_its_known_values(
    halving_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    config, study = halving_study
    files = write_report(study, config, tmp_path)
    csv = pd.read_csv(files.csv).set_index("number")
    costs = {trial.number: trial.user_attrs[attrs.COST] for trial in study.trials}
    for number in (2, 3, 5, 6):  # trained at rung 0 only: that rung's accuracy and metrics, the known costs
        row = csv.loc[number]
        assert row["accuracy"] == pytest.approx(HALVING_ACCURACY[number][0])
        assert row["metric.accuracy"] == pytest.approx(HALVING_ACCURACY[number][0])
        assert row["train_flops"] == pytest.approx(costs[number]["train_flops"])
        assert row["rung"] == 0 and row["rung_fraction"] == pytest.approx(1 / 3)
        assert row["values_from"] == "rung 0 (33% of the budget)"
    never = csv.loc[4]  # pruned by a constraint before training: its costs, no accuracy
    assert math.isnan(never["accuracy"]) and math.isnan(never["rung"])
    assert never["train_peak_bytes"] == pytest.approx(costs[4]["train_peak_bytes"])
    assert never["values_from"] == "cost model"
    for number in (0, 1):  # complete: the told values, at the top rung
        assert csv.loc[number, "accuracy"] == pytest.approx(HALVING_ACCURACY[number][-1])
        assert csv.loc[number, "rung"] == 1 and csv.loc[number, "values_from"] == "final"
    assert csv.loc[1, FRONT_COLUMN] and not csv.loc[[0, 2, 3, 4, 5, 6], FRONT_COLUMN].any()
    page = files.html.read_text(encoding="utf-8")
    table = page[page.index('id="trials-table"') :]
    assert '<th scope="col">values from</th>' in table and table.count(">rung 0 (33% of the budget)<") == 4
    row = re.search(r'<tr class="pruned"><td class="num" data-v="4.0">4</td>.*?</tr>', table)
    assert row and "GFLOP</td>" in row.group(0) and "MiB</td>" in row.group(0)  # its costs, in the table's units


def test_axes_name_their_units_and_byte_axes_use_binary_units(three_study: tuple[StudyConfig, optuna.Study]) -> None:
    config, study = three_study
    data = collect(study, config)
    figures = {section.key: section.figure for section in sections(data) if section.figure is not None}
    byte_units = ("B", "KiB", "MiB", "GiB", "TiB")
    checked = 0
    for key, figure in figures.items():
        axes = [figure.layout[name] for name in figure.layout if name.startswith(("xaxis", "yaxis"))]
        axes += [figure.layout.scene[f"{axis}axis"] for axis in "xyz"] if key == "scatter3d" else []
        for axis in axes:
            title = axis.title.text or ""
            if "bytes" in title:
                unit = re.search(r"(?:\(|\[)([A-Za-z]+)[;\])]", title)
                assert unit and unit.group(1) in byte_units, title
                assert axis.exponentformat == "none", f"{key}: SI tick suffixes on a byte axis"
                checked += 1
            if "flops" in title:
                assert re.search(r"[kMGT]?FLOP", title), title
    assert checked == 3  # the two pair plots with train_peak_bytes, and one axis of the 3-D view
    parallel = figures["parallel"].data[0]
    labels = [dimension.label for dimension in parallel.dimensions]
    assert any("[MiB]" in label or "[GiB]" in label or "[KiB]" in label for label in labels), labels
    for dimension in parallel.dimensions:
        if dimension.ticktext:  # log axes drawn by hand: labels in the unit, never with SI suffixes
            assert not [text for text in dimension.ticktext if re.search(r"\d[kMGT]$", text)]
    hypervolume = figures["hypervolume"].layout.xaxis
    assert hypervolume.tickformat == "d" and hypervolume.dtick >= 1 and float(hypervolume.dtick).is_integer()


def test_the_3d_view_has_short_axis_titles_and_a_camera_that_fits(
    three_study: tuple[StudyConfig, optuna.Study],
) -> None:
    config, study = three_study
    figure = next(s.figure for s in sections(collect(study, config)) if s.key == "scatter3d")
    scene = figure.layout.scene
    titles = [scene[f"{axis}axis"].title.text for axis in "xyz"]
    assert all(len(title) <= 30 and "better" not in title for title in titles), titles
    eye = scene.camera.eye
    assert (eye.x**2 + eye.y**2 + eye.z**2) ** 0.5 > (3 * 1.25**2) ** 0.5  # further out than plotly's default
