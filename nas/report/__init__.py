"""Reports and dashboards of a study: one offline HTML page with its trials tables, and a live view.

:mod:`nas.report._data` computes what is shown (fronts, hypervolume history, per-stage choices from
:mod:`nas.report._choices`), :mod:`nas.report._units` names the unit of every axis,
:mod:`nas.report._figures` draws it with plotly, :mod:`nas.report._page` assembles the self-contained
page, :mod:`nas.report.build` writes it with ``trials.csv`` and ``trials.parquet``;
:mod:`nas.report._server` serves it live and :mod:`nas.report._dashboard` runs optuna-dashboard beside it.
"""

from nas.report._choices import choice_usage
from nas.report._dashboard import DashboardError, OptunaDashboard, free_port
from nas.report._data import ReferencePoint, ReportData, block_mix, collect, load_study, report_data
from nas.report._figures import Section, pair_figure, pair_front_mask, pairs, sections
from nas.report._page import LiveOptions, render_page
from nas.report._server import ReportServer, finished_trials
from nas.report.build import ReportFiles, default_folder, render_report, write_report

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
