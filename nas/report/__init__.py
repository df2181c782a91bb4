"""Reports and dashboards of a study: one offline HTML page with its trials tables, and a live view.

:mod:`nas.report.data` computes what is shown (fronts, hypervolume history, per-stage choices from
:mod:`nas.report.choices`), :mod:`nas.report.units` names the unit of every axis,
:mod:`nas.report.figures` draws it with plotly, :mod:`nas.report.page` assembles the self-contained
page, :mod:`nas.report.build` writes it with ``trials.csv`` and ``trials.parquet``;
:mod:`nas.report.server` serves it live and :mod:`nas.report.dashboard` runs optuna-dashboard beside it.
"""

from nas.report.build import ReportFiles, default_folder, render_report, write_report
from nas.report.choices import choice_usage
from nas.report.dashboard import DashboardError, OptunaDashboard, free_port
from nas.report.data import ReferencePoint, ReportData, block_mix, collect, load_study, report_data
from nas.report.figures import Section, pair_figure, pair_front_mask, pairs, sections
from nas.report.page import LiveOptions, render_page
from nas.report.server import ReportServer, finished_trials

__all__ = [
    "DashboardError",
    "LiveOptions",
    "OptunaDashboard",
    "ReferencePoint",
    "ReportData",
    "ReportFiles",
    "ReportServer",
    "Section",
    "block_mix",
    "choice_usage",
    "collect",
    "default_folder",
    "finished_trials",
    "free_port",
    "load_study",
    "pair_figure",
    "pair_front_mask",
    "pairs",
    "render_page",
    "render_report",
    "report_data",
    "sections",
    "write_report",
]
