"""One self-contained HTML page: header, notes, the plots, and a sortable trials table.

The page must open offline and years later, so plotly.js is embedded inline (no CDN, no fonts, no
MathJax) and the table is sorted by a few lines of inline JavaScript. A tiny error recorder runs
before anything else and writes every JavaScript error into ``#report-js-errors`` (visible when not
empty): a reader sees a broken plot at once, and a headless browser's ``--dump-dom`` shows it to tests.

The live version served by ``centaurus-nas dashboard`` adds a poller that reloads the page when the
server's report version changes (a ``<meta http-equiv="refresh">`` fallback when JavaScript is off).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from functools import cache

import pandas as pd
import plotly.io as pio
import plotly.offline

from nas.cost import COST_OBJECTIVES
from nas.report._data import BLOCKS_COLUMN, FRONT_COLUMN, SOURCE_COLUMN, ReportData
from nas.report._figures import Section, sections
from nas.report._format import COST_LABELS, format_value, is_missing, sort_key
from nas.study.storage import redact

ERRORS_ID = "report-js-errors"
TABLE_ID = "trials-table"
PLOT_CONFIG: dict[str, object] = {"displaylogo": False, "responsive": True}

_ERROR_RECORDER = """
(function () {
  var errors = window.reportErrors = [];
  function show() {
    var box = document.getElementById("%(errors)s");
    if (!box) { return; }
    box.hidden = errors.length === 0;
    box.setAttribute("data-count", String(errors.length));
    box.textContent = errors.join("\\n");
  }
  function record(message) { errors.push(String(message)); show(); }
  window.addEventListener("error", function (event) {
    var where = event.filename ? " (" + event.filename + ":" + event.lineno + ")" : "";
    var element = event.target && event.target !== window ? event.target : null;
    var target = element ? " loading " + (element.src || element.href || element.tagName) : "";
    record("error: " + (event.message || "resource failed") + target + where);
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    record("unhandled promise rejection: " + (reason && (reason.stack || reason.message) || reason));
  });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return consoleError.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", show);
})();
"""

_TABLE_SORTER = """
(function () {
  function key(cell) {
    var raw = cell.getAttribute("data-v");
    if (raw === null) { raw = cell.textContent; }
    if (raw === "") { return [2, ""]; }
    var number = Number(raw);
    return isNaN(number) ? [1, raw.toLowerCase()] : [0, number];
  }
  function compare(a, b, ascending) {
    if (a[0] === 2 || b[0] === 2) { return a[0] - b[0]; }  /* empty cells last either way */
    if (a[0] !== b[0]) { return ascending ? a[0] - b[0] : b[0] - a[0]; }
    var order = a[0] === 0 ? a[1] - b[1] : (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    return ascending ? order : -order;
  }
  var table = document.getElementById("%(table)s");
  if (!table) { return; }
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (header, column) {
    header.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) { return compare(key(a.cells[column]), key(b.cells[column]), ascending); });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""

_LIVE_POLLER = """
(function () {
  var version = %(version)s;
  setInterval(function () {
    fetch("version", {cache: "no-store"}).then(function (response) { return response.text(); })
      .then(function (text) { if (text.trim() !== version) { window.location.reload(); } })
      .catch(function () { /* the server stopped: keep showing the last report */ });
  }, %(milliseconds)d);
})();
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1280px;
       padding: 0 1.5rem 3rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.meta { color: #555; margin: 0.2rem 0; } .note { color: #555; font-size: 0.92rem; margin: 0.3rem 0 0.6rem; }
.notes { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5rem 1rem; }
.empty { background: #eef4fb; border-left: 4px solid #1f77b4; padding: 0.8rem 1rem; font-size: 1.05rem; }
#report-js-errors { background: #fdecea; border-left: 4px solid #d62728; padding: 0.6rem 1rem; white-space: pre-wrap; }
nav a { margin-right: 1rem; } .plot { min-height: 460px; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; cursor: pointer; position: sticky; top: 0; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td.arch { min-width: 22rem; } td.reason { min-width: 16rem; } td.source { min-width: 12rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.front td { background: #eaf2fb; } tr.fail td, tr.interrupted td { color: #a33; } tr.pruned td { color: #777; }
.table-wrap { max-height: 80vh; overflow: auto; }
"""


_CELL_CLASSES = {"summary": "arch", "reason": "reason", SOURCE_COLUMN: "source"}


@dataclass(frozen=True)
class LiveOptions:
    """How the served page keeps itself current: the server's report version and the poll interval."""

    version: str
    interval_seconds: float = 5.0


@cache
def _plotly_js() -> str:
    """plotly.js, minified, as shipped with the Python package (no network needed)."""
    return plotly.offline.get_plotlyjs()


def render_page(data: ReportData, live: LiveOptions | None = None) -> str:
    """The whole page as a string (several MB: plotly.js is inline)."""
    views = sections(data)
    title = f"{data.study_name}: study report"
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{_ERROR_RECORDER % {'errors': ERRORS_ID}}</script>",
    ]
    if live is not None:
        seconds = max(1, round(live.interval_seconds))
        head.append(f'<noscript><meta http-equiv="refresh" content="{seconds}"></noscript>')
    if any(view.figure is not None for view in views):
        head.append(f'<script type="text/javascript">{_plotly_js()}</script>')
    body = [
        f'<pre id="{ERRORS_ID}" hidden data-count="0"></pre>',
        f"<h1>{html.escape(title)}</h1>",
        *_header(data, live),
        *_notes(data),
        _navigation(views),
    ]
    if data.evaluated.empty:
        partial = " The plots show the networks trained at lower rungs so far." if len(data.partial) else ""
        body.append(
            '<p class="empty" id="no-complete-trials">No complete trials yet: there is no Pareto front to show.'
            f"{partial} The table below lists the trials so far.</p>"
        )
    for view in views:
        body.extend(_section(view))
    body.append('<h2 id="trials">Trials</h2>')
    body.append(_table(data))
    body.append(f"<script>{_TABLE_SORTER % {'table': TABLE_ID}}</script>")
    if live is not None:
        poll = {"version": json.dumps(live.version), "milliseconds": int(live.interval_seconds * 1000)}
        body.append(f"<script>{_LIVE_POLLER % poll}</script>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n'
        + "\n".join(head)
        + "\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _header(data: ReportData, live: LiveOptions | None) -> list[str]:
    objectives = ", ".join(f"{name} ({direction})" for name, direction in data.objectives.items())
    labels = {"fail": "failed"}
    counts = ", ".join(f"{n} {labels.get(state, state)}" for state, n in data.counts.items() if n) or "no trials"
    lines = [
        f'<p class="meta">task <b>{html.escape(data.task)}</b>; objectives: {html.escape(objectives)}</p>',
        f'<p class="meta">storage <code>{html.escape(redact(data.storage_url))}</code></p>',
        f'<p class="meta">trials: {html.escape(counts)}; Pareto front: {len(data.front)} trial(s)</p>',
    ]
    if len(data.partial):
        lines.append(
            f'<p class="meta">{len(data.partial)} trained network(s) stopped at a lower rung of successive halving:'
            " drawn as crosses (rings in 3-D) at that rung's values, listed in the table with them (never on a"
            " front)</p>"
        )
    if data.hypervolume is not None and data.reference is not None:
        share = float(data.history["share"].iloc[-1])
        volume = (
            f"{data.hypervolume:.6g} (raw; the box between the reference and ideal points is empty)"
            if math.isnan(share)
            else f"{share:.2f} of the box between the reference and ideal points (raw {data.hypervolume:.4g})"
        )
        lines.append(f'<p class="meta">hypervolume {volume}; {html.escape(data.reference.describe())}</p>')
    lines.extend(f'<p class="meta weight-sharing">{html.escape(line)}</p>' for line in data.weight_sharing)
    stamp = data.generated.strftime("%Y-%m-%d %H:%M:%S")
    refresh = f"; live: reloads when new trials finish (checked every {live.interval_seconds:g} s)" if live else ""
    lines.append(f'<p class="meta">generated {stamp}{refresh}</p>')
    return lines


def _notes(data: ReportData) -> list[str]:
    if not data.notes:
        return []
    items = "".join(f"<li>{html.escape(note)}</li>" for note in data.notes)
    return [f'<div class="notes"><b>Notes</b><ul>{items}</ul></div>']


def _navigation(views: list[Section]) -> str:
    links = [f'<a href="#{html.escape(view.key)}">{html.escape(view.title)}</a>' for view in views]
    links.append('<a href="#trials">Trials</a>')
    return f"<nav>{' '.join(links)}</nav>"


def _section(view: Section) -> list[str]:
    parts = [f'<h2 id="{html.escape(view.key)}">{html.escape(view.title)}</h2>']
    if view.note:
        parts.append(f'<p class="note">{html.escape(view.note)}</p>')
    if view.figure is not None:
        div = pio.to_html(
            view.figure,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            div_id=f"plot-{view.key}",
            config=PLOT_CONFIG,
            default_height="100%",
        )
        parts.append(f'<div class="plot">{div}</div>')
    return parts


def table_columns(data: ReportData) -> list[tuple[str, str]]:
    """(frame column, header) of the trials table, in order; columns the frame lacks are skipped."""
    costs = [(column, label) for column, label in COST_LABELS.items() if column[5:] not in data.objectives]
    wanted = [
        ("number", "trial"),
        ("state", "state"),
        (FRONT_COLUMN, "front"),
        ("kind", "quality from"),
        *((name, f"{name} {'↓' if direction == 'minimize' else '↑'}") for name, direction in data.objectives.items()),
        *((f"estimate.{name}", f"estimated {name}") for name in data.objectives if name not in COST_OBJECTIVES),
        ("confirms", "confirms"),
        *costs,
        (SOURCE_COLUMN, "values from"),
        ("train_seconds", "train time"),
        (BLOCKS_COLUMN, "blocks"),
        ("summary", "architecture"),
        ("duplicate_of", "same as"),
        ("reason", "reason"),
    ]
    seen: set[str] = set()
    result = []
    for column, header in wanted:
        if column in data.trials.columns and column not in seen:
            seen.add(column)
            result.append((column, header))
    return result


def _table(data: ReportData) -> str:
    columns = table_columns(data)
    header = "".join(f'<th scope="col">{html.escape(label)}</th>' for _, label in columns)
    rows = []
    trials = data.trials.sort_values("number", kind="stable") if len(data.trials) else data.trials
    for record in trials.to_dict("records"):
        state = str(record.get("state"))
        front = bool(record.get(FRONT_COLUMN))
        cells = []
        for column, _ in columns:
            value = record.get(column)
            cells.append(_cell(column, value))
        classes = " ".join(part for part in (state, "front" if front else "") if part)
        rows.append(f'<tr class="{html.escape(classes)}">{"".join(cells)}</tr>')
    if not rows:
        rows.append(f'<tr class="none"><td colspan="{len(columns)}">no trials yet</td></tr>')
    return (
        f'<div class="table-wrap"><table id="{TABLE_ID}" class="sortable">'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell(column: str, value: object) -> str:
    if column == FRONT_COLUMN:
        shown = "yes" if value is True else ""
        return f'<td data-v="{"1" if value is True else "0"}">{shown}</td>'
    if column == "duplicate_of" and not is_missing(value):
        value = int(value)  # type: ignore[call-overload]
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool) and not is_missing(value)
    if isinstance(value, pd.Timestamp):
        shown = value.strftime("%Y-%m-%d %H:%M:%S")
    elif column in ("number", "duplicate_of"):
        shown = "" if is_missing(value) else str(value)
    else:
        shown = "" if is_missing(value) else format_value(column, value)
    css = ' class="num"' if numeric else f' class="{_CELL_CLASSES[column]}"' if column in _CELL_CLASSES else ""
    return f'<td{css} data-v="{html.escape(sort_key(value))}">{html.escape(shown)}</td>'
