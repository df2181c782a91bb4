"""``centaurus-nas report``: the study as one offline HTML page plus its trials as CSV and Parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd

from nas.report._data import ReportData, collect
from nas.report._page import LiveOptions, render_page
from nas.study.config import StudyConfig
from nas.study.trials import fronts_frame

REPORT_NAME = "report.html"
CSV_NAME = "trials.csv"
PARQUET_NAME = "trials.parquet"


@dataclass(frozen=True)
class ReportFiles:
    """Where a report went."""

    html: Path
    csv: Path
    parquet: Path


def default_folder(config: StudyConfig) -> Path:
    """``OUTPUT/NAME/report``: next to the study's database and tables."""
    return config.output_dir / "report"


def render_report(study: optuna.Study, config: StudyConfig, live: LiveOptions | None = None) -> tuple[ReportData, str]:
    """The report's data and its page, read from the study now."""
    data = collect(study, config)
    return data, render_page(data, live)


def table_for_files(data: ReportData) -> pd.DataFrame:
    """The trials as written to CSV/Parquet: :func:`~nas.study.trials.trials_frame`'s columns plus
    ``blocks``, ``block_mix``, ``rung``, ``rung_fraction``, ``values_from`` and ``on_front``, ordered by
    trial number (objective columns hold every value known for a trial: see :mod:`nas.report._data`)."""
    frame = data.trials.sort_values("number", kind="stable").reset_index(drop=True) if len(data.trials) else data.trials
    return frame


def write_report(study: optuna.Study, config: StudyConfig, folder: Path | None = None) -> ReportFiles:
    """Write ``report.html``, ``trials.csv`` and ``trials.parquet`` into ``folder`` (default :func:`default_folder`)."""
    folder = folder or default_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    data, page = render_report(study, config)
    files = ReportFiles(folder / REPORT_NAME, folder / CSV_NAME, folder / PARQUET_NAME)
    files.html.write_text(page, encoding="utf-8")
    frame = table_for_files(data)
    frame.to_csv(files.csv, index=False)
    frame.to_parquet(files.parquet, index=False)
    return files


def write_tables(study: optuna.Study, config: StudyConfig, folder: Path | None = None) -> tuple[Path, Path]:
    """``trials.csv`` and ``pareto.csv`` in the study's output folder (what ``search`` and ``compare`` leave).

    The trials table is the report's (:func:`table_for_files`), so a trial stopped by successive halving
    has the values of the rung it reached and a trial pruned before training its cost-model values, in
    the search's CSV as in the report's; returns both paths.
    """
    folder = folder or config.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    trials_path, front_path = folder / CSV_NAME, folder / "pareto.csv"
    table_for_files(collect(study, config)).to_csv(trials_path, index=False)
    fronts_frame(study, config).to_csv(front_path, index=False)
    return trials_path, front_path
