"""The report's plots, drawn from :class:`~nas.report.data.ReportData` with plotly.

Every point carries its trial number as ``customdata`` and every trace a stable ``name``, so a reader
can hover to the trial in the table and a test can check a trace's members against the analysis.
Plots that need a value a trial lacks (a NaN objective, an unknown cost) leave that trial out and say
so in the section note; a view that has nothing to draw is replaced by its note, never by an empty axis.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from nas.cost import COST_OBJECTIVES
from nas.pareto import non_dominated_mask
from nas.report._format import hover_text
from nas.report.data import (
    DOMINATED_GROUP,
    FRONT_COLUMN,
    FRONT_GROUP,
    MIX_COLUMN,
    ReportData,
    objective_values,
)
from nas.study.config import TRAINING_METRICS

FRONT_TRACE = "Pareto front"
DOMINATED_TRACE = "dominated"
FULL_FRONT_TRACE = "on the front of all objectives"
"""Trace names (tests and readers find traces by them)."""

_FRONT_COLOUR = "#1f77b4"
_FULL_FRONT_COLOUR = "#ff7f0e"
_DOMINATED_COLOUR = "#b8b8b8"
_BLOCK_COLOURS = {"dws": "#1f77b4", "s5": "#ff7f0e", "neck": "#2ca02c", "full": "#d62728", "group": "#9467bd"}
_TEMPLATE = "plotly_white"


@dataclass(frozen=True)
class Section:
    """One view of the page: an anchor, a title, a figure (None when there is nothing to draw) and a note."""

    key: str
    title: str
    figure: go.Figure | None
    note: str = ""


def sections(data: ReportData) -> list[Section]:
    """Every view the page shows, in page order."""
    if data.evaluated.empty:
        return []
    names = list(data.objectives)
    result: list[Section] = []
    if len(names) == 1:
        result.append(_single_section(data, names[0]))
    for x, y in pairs(names):
        result.append(_pair_section(data, x, y))
    if len(names) > 2:
        result.append(_parallel_section(data))
    if len(names) == 3:
        result.append(_scatter3d_section(data))
    result.append(_hypervolume_section(data))
    result.append(_blocks_section(data))
    result.append(_quality_section(data))
    return result


def pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair of objectives once, as (x, y): in the study's order, except that a cost
    (known before training) goes on x against a task metric, as in quality-versus-cost plots."""
    result = []
    for first, second in itertools.combinations(names, 2):
        swap = not _is_cost(first) and _is_cost(second)
        result.append((second, first) if swap else (first, second))
    return result


# ------------------------------------------------------------------------------------ helpers
def _is_cost(name: str) -> bool:
    return name in COST_OBJECTIVES or name in TRAINING_METRICS


def _axis_title(name: str, direction: str) -> str:
    return f"{name} ({'lower' if direction == 'minimize' else 'higher'} is better)"


def _axis_type(values: np.ndarray) -> str:
    """Log scale for positive quantities spanning two decades or more (FLOPs, bytes, params), else linear."""
    finite = values[np.isfinite(values)]
    if len(finite) >= 2 and (finite > 0).all() and finite.max() / finite.min() >= 100:
        return "log"
    return "linear"


def _layout(figure: go.Figure, title: str, **extra: object) -> go.Figure:
    figure.update_layout(
        template=_TEMPLATE,
        title={"text": title},
        height=460,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        hoverlabel={"align": "left"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        **extra,
    )
    return figure


def _texts(rows: pd.DataFrame, data: ReportData) -> list[str]:
    return [hover_text(row, data.objectives) for row in rows.to_dict("records")]


def _numbers(rows: pd.DataFrame) -> list[int]:
    return [int(number) for number in rows["number"]]


def _missing_note(dropped: int, what: str) -> str:
    return f"{dropped} evaluated trial(s) without a value for {what} are not drawn." if dropped else ""


def _scatter(rows: pd.DataFrame, data: ReportData, x: str, y: str, name: str, **style: object) -> go.Scatter:
    return go.Scatter(
        x=rows[x].to_numpy(dtype=float),
        y=rows[y].to_numpy(dtype=float),
        name=name,
        customdata=_numbers(rows),
        text=_texts(rows, data),
        hovertemplate="%{text}<extra></extra>",
        **style,
    )


# ------------------------------------------------------------------------------ pair fronts
def pair_front_mask(data: ReportData, x: str, y: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The evaluated trials with both values, and the mask of those on the two-objective front of (x, y)."""
    pair = {x: data.objectives[x], y: data.objectives[y]}
    values = objective_values(data.evaluated, pair)
    valid = ~np.isnan(values).any(axis=1)
    rows = data.evaluated[valid]
    mask = non_dominated_mask(values[valid], list(pair.values())) if valid.any() else np.zeros(0, dtype=bool)
    return rows, mask


def pair_figure(data: ReportData, x: str, y: str) -> go.Figure:
    """Trials in the plane of two objectives: the front of this pair connected as the staircase it
    dominates, dominated trials grey; with more objectives, trials on the front of all of them but
    dominated in this pair are ringed (a trial can be worse in two objectives and best in a third)."""
    rows, mask = pair_front_mask(data, x, y)
    front = rows[mask].sort_values([x, y], kind="stable")
    many = len(data.objectives) > 2
    full = rows[FRONT_COLUMN].to_numpy(dtype=bool) & ~mask if many else np.zeros(len(rows), dtype=bool)
    figure = go.Figure()
    dominated = rows[~mask & ~full]
    marker = {"color": _DOMINATED_COLOUR, "size": 7}
    figure.add_trace(_scatter(dominated, data, x, y, DOMINATED_TRACE, mode="markers", marker=marker))
    if many:
        ring = {"color": _FULL_FRONT_COLOUR, "size": 9, "symbol": "circle-open", "line": {"width": 2}}
        figure.add_trace(_scatter(rows[full], data, x, y, FULL_FRONT_TRACE, mode="markers", marker=ring))
    # Walking the front by ascending x, the corner between two neighbours is their component-wise worst
    # value: horizontal first ("hv") when lower x is better, vertical first ("vh") when higher x is.
    shape = "hv" if data.objectives[x] == "minimize" else "vh"
    figure.add_trace(
        _scatter(
            front,
            data,
            x,
            y,
            FRONT_TRACE,
            mode="lines+markers",
            line={"shape": shape, "color": _FRONT_COLOUR, "width": 2},
            marker={"color": _FRONT_COLOUR, "size": 10, "line": {"color": "white", "width": 1}},
        )
    )
    values = objective_values(rows, {x: "minimize", y: "minimize"})
    _layout(figure, f"{y} against {x}: {len(front)} of {len(rows)} trials on this pair's front")
    figure.update_xaxes(title_text=_axis_title(x, data.objectives[x]), type=_axis_type(values[:, 0]))
    figure.update_yaxes(title_text=_axis_title(y, data.objectives[y]), type=_axis_type(values[:, 1]))
    return figure


def _pair_section(data: ReportData, x: str, y: str) -> Section:
    rows, _ = pair_front_mask(data, x, y)
    note = _missing_note(len(data.evaluated) - len(rows), f"{x} and {y}")
    if rows.empty:
        return Section(f"pair-{x}-{y}", f"Pareto front: {y} vs {x}", None, note or "nothing to draw")
    return Section(f"pair-{x}-{y}", f"Pareto front: {y} vs {x}", pair_figure(data, x, y), note)


def _single_section(data: ReportData, name: str) -> Section:
    """One objective: each trial's value in completion order and the best so far (the front is the best value)."""
    rows = data.evaluated.dropna(subset=[name]).sort_values(["completed", "number"], kind="stable")
    note = _missing_note(len(data.evaluated) - len(rows), name)
    if rows.empty:
        return Section(f"objective-{name}", f"{name} by trial", None, note or "nothing to draw")
    rows = rows.assign(_order=np.arange(1, len(rows) + 1))
    values = rows[name].to_numpy(dtype=float)
    best = np.minimum.accumulate(values) if data.objectives[name] == "minimize" else np.maximum.accumulate(values)
    on_front = rows[FRONT_COLUMN].to_numpy(dtype=bool)
    figure = go.Figure()
    groups = ((~on_front, DOMINATED_TRACE, _DOMINATED_COLOUR, 7), (on_front, FRONT_TRACE, _FRONT_COLOUR, 11))
    for chosen, label, colour, size in groups:
        marker = {"color": colour, "size": size}
        figure.add_trace(_scatter(rows[chosen], data, "_order", name, label, mode="markers", marker=marker))
    line = {"shape": "hv", "color": _FRONT_COLOUR}
    figure.add_trace(
        go.Scatter(x=rows["_order"], y=best, name="best so far", mode="lines", line=line, hoverinfo="skip")
    )
    _layout(figure, f"{name} of each evaluated trial, in completion order")
    figure.update_xaxes(title_text="evaluated trials completed")
    figure.update_yaxes(title_text=_axis_title(name, data.objectives[name]), type=_axis_type(values))
    return Section(f"objective-{name}", f"{name} by trial", figure, note)


# --------------------------------------------------------------------- more than two objectives
def _parallel_section(data: ReportData) -> Section:
    values = objective_values(data.evaluated, data.objectives)
    valid = ~np.isnan(values).any(axis=1)
    rows, values = data.evaluated[valid], values[valid]
    note = _missing_note(len(data.evaluated) - len(rows), "every objective")
    title = "All objectives at once (parallel coordinates)"
    if rows.empty:
        return Section("parallel", title, None, note or "nothing to draw")
    dimensions = []
    for index, (name, direction) in enumerate(data.objectives.items()):
        column = values[:, index]
        log = _axis_type(column) == "log"
        shown = np.log10(column) if log else column
        label = f"{'log10 ' if log else ''}{name} {'↓' if direction == 'minimize' else '↑'}"
        dimensions.append({"label": label, "values": shown})
    dimensions.append({"label": "trial", "values": rows["number"].to_numpy(dtype=float)})
    on_front = rows[FRONT_COLUMN].to_numpy(dtype=float)
    figure = go.Figure(
        go.Parcoords(
            line={
                "color": on_front,
                "colorscale": [[0.0, _DOMINATED_COLOUR], [1.0, _FRONT_COLOUR]],
                "cmin": 0.0,
                "cmax": 1.0,
            },
            dimensions=dimensions,
            name="trials",
        )
    )
    _layout(figure, f"{int(on_front.sum())} front trials (blue) among {len(rows)}; drag along an axis to filter")
    figure.update_layout(margin={"l": 80, "r": 80, "t": 100, "b": 40})
    return Section("parallel", title, figure, note)


def _scatter3d_section(data: ReportData) -> Section:
    names = list(data.objectives)
    values = objective_values(data.evaluated, data.objectives)
    valid = ~np.isnan(values).any(axis=1)
    rows = data.evaluated[valid]
    note = _missing_note(len(data.evaluated) - len(rows), "every objective")
    title = "Three objectives in 3-D"
    if rows.empty:
        return Section("scatter3d", title, None, note or "nothing to draw")
    figure = go.Figure()
    on_front = rows[FRONT_COLUMN].to_numpy(dtype=bool)
    groups = ((~on_front, DOMINATED_TRACE, _DOMINATED_COLOUR, 3), (on_front, FRONT_TRACE, _FRONT_COLOUR, 5))
    for chosen, label, colour, size in groups:
        part = rows[chosen]
        figure.add_trace(
            go.Scatter3d(
                x=part[names[0]].to_numpy(dtype=float),
                y=part[names[1]].to_numpy(dtype=float),
                z=part[names[2]].to_numpy(dtype=float),
                mode="markers",
                name=label,
                marker={"color": colour, "size": size},
                customdata=_numbers(part),
                text=_texts(part, data),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    scene = {
        axis: {"title": {"text": _axis_title(name, data.objectives[name])}, "type": _axis_type(values[valid][:, index])}
        for index, (axis, name) in enumerate(zip(("xaxis", "yaxis", "zaxis"), names, strict=True))
    }
    _layout(figure, "Front trials in blue; drag to rotate", scene=scene)
    figure.update_layout(height=560)
    return Section("scatter3d", title, figure, note)


# ------------------------------------------------------------------------------- hypervolume
def _hypervolume_section(data: ReportData) -> Section:
    title = "Hypervolume over time"
    if data.reference is None or data.history.empty:
        return Section("hypervolume", title, None, "no hypervolume: no reference point (see the notes above)")
    history = data.history
    columns = ["completed_index", "number", "completed", "hypervolume"]
    texts = [
        f"after {index} completions (trial {number}, {completed})<br>hypervolume {volume:.6g}"
        for index, number, completed, volume in history[columns].itertuples(index=False)
    ]
    figure = go.Figure(
        go.Scatter(
            x=history["completed_index"],
            y=history["hypervolume"],
            mode="lines+markers",
            line={"shape": "hv", "color": _FRONT_COLOUR},
            marker={"size": 5},
            name="hypervolume",
            customdata=history["number"].astype(int).tolist(),
            text=texts,
            hovertemplate="%{text}<extra></extra>",
        )
    )
    _layout(figure, f"Hypervolume of the front after each completed trial: {history['hypervolume'].iloc[-1]:.6g}")
    figure.update_layout(title={"subtitle": {"text": data.reference.describe()}}, margin={"t": 90})
    figure.update_xaxes(title_text="complete trials, in completion order")
    figure.update_yaxes(title_text="hypervolume")
    return Section("hypervolume", title, figure)


# ---------------------------------------------------------------------------------- blocks
def block_figure(usage: pd.DataFrame) -> go.Figure:
    """Share of trials using each block type per stage, front trials on the left, dominated on the right."""
    totals = {
        group: usage[usage["group"] == group].groupby("stage")["total"].max().to_dict()
        for group in (FRONT_GROUP, DOMINATED_GROUP)
    }
    titles = []
    for group, label in ((FRONT_GROUP, "Pareto front"), (DOMINATED_GROUP, "dominated")):
        count = max(totals[group].values(), default=0)
        titles.append(f"{label} ({count} trials)")
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.06)
    blocks = list(dict.fromkeys(usage["block"]))
    for column, group in enumerate((FRONT_GROUP, DOMINATED_GROUP), start=1):
        for block in blocks:
            part = usage[(usage["group"] == group) & (usage["block"] == block)].sort_values("stage")
            figure.add_trace(
                go.Bar(
                    x=[f"stage {stage}" for stage in part["stage"]],
                    y=part["share"].fillna(0.0).to_numpy(dtype=float),
                    name=block,
                    legendgroup=block,
                    showlegend=column == 1,
                    marker={"color": _BLOCK_COLOURS.get(block)},
                    customdata=np.column_stack([part["count"], part["total"]]),
                    meta=group,
                    hovertemplate=f"%{{x}}: {block} in %{{customdata[0]}} of %{{customdata[1]}} {group} trials"
                    " (%{y:.0%})<extra></extra>",
                ),
                row=1,
                col=column,
            )
    figure.update_yaxes(tickformat=".0%", range=[0, 1.05])
    figure.update_yaxes(title_text="share of trials", row=1, col=1)
    _layout(figure, "Which block each stage uses, on the front and off it")
    figure.update_layout(barmode="group", legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0})
    return figure


def _blocks_section(data: ReportData) -> Section:
    title = "Block types per stage: front versus dominated"
    if data.block_usage.empty:
        return Section("blocks", title, None, "no evaluated trial has a readable architecture spec")
    note = "Share of the evaluated trials of each group whose stage uses each block type (hover for counts)."
    return Section("blocks", title, block_figure(data.block_usage), note)


# ----------------------------------------------------------------------- quality versus cost
def _quality_section(data: ReportData) -> Section:
    title = "Quality versus predicted training cost"
    quality, cost = data.quality, "cost.train_flops"
    if quality is None:
        return Section("quality", title, None, "no objective other than train_flops to draw against it")
    if cost not in data.evaluated.columns:
        return Section("quality", title, None, "no trial has a predicted training cost (cost.train_flops)")
    rows = data.evaluated.dropna(subset=[quality, cost])
    note = _missing_note(len(data.evaluated) - len(rows), f"{quality} and the predicted training FLOPs")
    if rows.empty:
        return Section("quality", title, None, note)
    mixes = sorted(rows[MIX_COLUMN].fillna("unknown").unique(), key=lambda mix: (mix.count("+"), mix))
    palette: Sequence[str] = qualitative.Plotly if len(mixes) <= 10 else qualitative.Dark24
    figure = go.Figure()
    for index, mix in enumerate(mixes):
        part = rows[rows[MIX_COLUMN].fillna("unknown") == mix]
        on_front = part[FRONT_COLUMN].to_numpy(dtype=bool)
        figure.add_trace(
            _scatter(
                part,
                data,
                cost,
                quality,
                mix,
                mode="markers",
                marker={
                    "color": palette[index % len(palette)],
                    "size": np.where(on_front, 12, 8).tolist(),
                    "symbol": np.where(on_front, "diamond", "circle").tolist(),
                    "line": {"color": np.where(on_front, "black", "white").tolist(), "width": 1},
                },
            )
        )
    _layout(figure, f"{quality} against predicted training FLOPs, coloured by block mix (diamonds: Pareto front)")
    figure.update_layout(
        legend={"title": {"text": "blocks used"}, "orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0}
    )
    x_type, y_type = (_axis_type(rows[column].to_numpy(dtype=float)) for column in (cost, quality))
    figure.update_xaxes(title_text="predicted training FLOPs per step (cost model)", type=x_type)
    figure.update_yaxes(title_text=_axis_title(quality, data.objectives[quality]), type=y_type)
    return Section("quality", title, figure, note)
