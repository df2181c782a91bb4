"""The report's plots, drawn from :class:`~nas.report._data.ReportData` with plotly.

Every point carries its trial number as ``customdata`` and every trace a stable ``name``, so a reader
can hover to the trial in the table and a test can check a trace's members against the analysis.
Plots that need a value a trial lacks (a NaN objective, an unknown cost) leave that trial out and say
so in the section note; a view that has nothing to draw is replaced by its note, never by an empty axis.

Every trained network is drawn: complete trials, and networks stopped by successive halving at a lower
rung (crosses, at that rung's values; never on a front). Each axis is drawn in a unit named in its
title (:mod:`nas.report._units`): bytes in binary units as in the table, FLOPs in GFLOP and the like.
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
from nas.report._data import FRONT_COLUMN, FRONT_GROUP, MIX_COLUMN, OTHERS_GROUP, ReportData, objective_values
from nas.report._format import hover_text
from nas.report._units import Unit, axis_style, integer_ticks, log_ticks, tick_label, unit_for
from nas.study.config import TRAINING_METRICS

FRONT_TRACE = "Pareto front"
DOMINATED_TRACE = "dominated"
FULL_FRONT_TRACE = "on the front of all objectives"
PARTIAL_TRACE = "stopped at a lower rung"
"""Trace names (tests and readers find traces by them)."""

_FRONT_COLOUR = "#1f77b4"
_FULL_FRONT_COLOUR = "#ff7f0e"
_DOMINATED_COLOUR = "#b8b8b8"
_PARTIAL_COLOUR = "#8c564b"
_PARTIAL_MARKER = {
    "color": _PARTIAL_COLOUR,
    "size": 7,
    "symbol": "x-thin",
    "line": {"color": _PARTIAL_COLOUR, "width": 2},
}
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
    if data.trained.empty:
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
    result.append(_choices_section(data))
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


def _axis_type(values: np.ndarray) -> str:
    """Log scale for positive quantities spanning two decades or more (FLOPs, bytes, params), else linear."""
    finite = values[np.isfinite(values)]
    if len(finite) >= 2 and (finite > 0).all() and finite.max() / finite.min() >= 100:
        return "log"
    return "linear"


def _axis(name: str, values: np.ndarray, direction: str | None = None) -> tuple[Unit, dict[str, object]]:
    """The unit ``name`` is drawn in over ``values`` (raw), and the axis settings that name it."""
    unit = unit_for(name, values)
    settings = {"title_text": unit.title(name, direction), "type": _axis_type(unit.apply(values)), **axis_style()}
    return unit, settings


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
    return f"{dropped} trained trial(s) without a value for {what} are not drawn." if dropped else ""


def _with_values(rows: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The rows that have a value for every one of ``names``."""
    values = objective_values(rows, dict.fromkeys(names, "minimize"))
    return rows[~np.isnan(values).any(axis=1)] if len(rows) else rows


def _scatter(
    rows: pd.DataFrame, data: ReportData, columns: tuple[str, str], units: tuple[Unit, Unit], name: str, **style: object
) -> go.Scatter:
    return go.Scatter(
        x=units[0].apply(rows[columns[0]].to_numpy(dtype=float)),
        y=units[1].apply(rows[columns[1]].to_numpy(dtype=float)),
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
    rows = _with_values(data.evaluated, [x, y])
    values = objective_values(rows, pair)
    mask = non_dominated_mask(values, list(pair.values())) if len(rows) else np.zeros(0, dtype=bool)
    return rows, mask


def pair_figure(data: ReportData, x: str, y: str) -> go.Figure:
    """Trials in the plane of two objectives: the front of this pair connected as the staircase it
    dominates, dominated trials grey, networks stopped at a lower rung as crosses; with more objectives,
    trials on the front of all of them but dominated in this pair are ringed (a trial can be worse in
    two objectives and best in a third)."""
    rows, mask = pair_front_mask(data, x, y)
    partial = _with_values(data.partial, [x, y])
    front = rows[mask].sort_values([x, y], kind="stable")
    many = len(data.objectives) > 2
    full = rows[FRONT_COLUMN].to_numpy(dtype=bool) & ~mask if many else np.zeros(len(rows), dtype=bool)
    drawn = pd.concat([rows, partial])
    (x_unit, x_axis), (y_unit, y_axis) = (
        _axis(name, drawn[name].to_numpy(dtype=float), data.objectives[name]) for name in (x, y)
    )
    columns, units = (x, y), (x_unit, y_unit)
    figure = go.Figure()
    marker = {"color": _DOMINATED_COLOUR, "size": 7}
    figure.add_trace(
        _scatter(rows[~mask & ~full], data, columns, units, DOMINATED_TRACE, mode="markers", marker=marker)
    )
    if len(partial):
        figure.add_trace(_scatter(partial, data, columns, units, PARTIAL_TRACE, mode="markers", marker=_PARTIAL_MARKER))
    if many:
        ring = {"color": _FULL_FRONT_COLOUR, "size": 9, "symbol": "circle-open", "line": {"width": 2}}
        figure.add_trace(_scatter(rows[full], data, columns, units, FULL_FRONT_TRACE, mode="markers", marker=ring))
    # Walking the front by ascending x, the corner between two neighbours is their component-wise worst
    # value: horizontal first ("hv") when lower x is better, vertical first ("vh") when higher x is.
    shape = "hv" if data.objectives[x] == "minimize" else "vh"
    figure.add_trace(
        _scatter(
            front,
            data,
            columns,
            units,
            FRONT_TRACE,
            mode="lines+markers",
            line={"shape": shape, "color": _FRONT_COLOUR, "width": 2},
            marker={"color": _FRONT_COLOUR, "size": 10, "line": {"color": "white", "width": 1}},
        )
    )
    stopped = f"; {len(partial)} stopped at a lower rung" if len(partial) else ""
    _layout(figure, f"{y} against {x}: {len(front)} of {len(rows)} complete trials on this pair's front{stopped}")
    figure.update_xaxes(**x_axis)
    figure.update_yaxes(**y_axis)
    return figure


def _pair_section(data: ReportData, x: str, y: str) -> Section:
    rows, _ = pair_front_mask(data, x, y)
    drawn = len(rows) + len(_with_values(data.partial, [x, y]))
    note = _missing_note(len(data.trained) - drawn, f"{x} and {y}")
    if not drawn:
        return Section(f"pair-{x}-{y}", f"Pareto front: {y} vs {x}", None, note or "nothing to draw")
    return Section(f"pair-{x}-{y}", f"Pareto front: {y} vs {x}", pair_figure(data, x, y), note)


def _single_section(data: ReportData, name: str) -> Section:
    """One objective: each trained network's value in completion order, and the best complete value so far."""
    rows = _with_values(data.trained, [name]).sort_values(["completed", "number"], kind="stable")
    note = _missing_note(len(data.trained) - len(rows), name)
    if rows.empty:
        return Section(f"objective-{name}", f"{name} by trial", None, note or "nothing to draw")
    rows = rows.assign(_order=np.arange(1, len(rows) + 1))
    unit, axis = _axis(name, rows[name].to_numpy(dtype=float), data.objectives[name])
    complete = rows[rows["state"] == "complete"]
    values = complete[name].to_numpy(dtype=float)
    best = np.minimum.accumulate(values) if data.objectives[name] == "minimize" else np.maximum.accumulate(values)
    on_front = rows[FRONT_COLUMN].to_numpy(dtype=bool)
    is_partial = rows["number"].isin(data.partial["number"]).to_numpy()
    figure = go.Figure()
    count = Unit("")  # the x axis: a position in completion order, no unit
    groups = (
        (~on_front & ~is_partial, DOMINATED_TRACE, {"color": _DOMINATED_COLOUR, "size": 7}),
        (is_partial, PARTIAL_TRACE, _PARTIAL_MARKER),
        (on_front, FRONT_TRACE, {"color": _FRONT_COLOUR, "size": 11}),
    )
    for chosen, label, marker in groups:
        if chosen.any() or label != PARTIAL_TRACE:
            part = rows[chosen]
            figure.add_trace(
                _scatter(part, data, ("_order", name), (count, unit), label, mode="markers", marker=marker)
            )
    line = {"shape": "hv", "color": _FRONT_COLOUR}
    figure.add_trace(
        go.Scatter(
            x=complete["_order"], y=unit.apply(best), name="best so far", mode="lines", line=line, hoverinfo="skip"
        )
    )
    _layout(figure, f"{name} of each trained network, in completion order")
    figure.update_xaxes(title_text="trained networks, in completion order", **integer_ticks(len(rows)))
    figure.update_yaxes(**axis)
    return Section(f"objective-{name}", f"{name} by trial", figure, note)


# --------------------------------------------------------------------- more than two objectives
def _parallel_dimension(name: str, direction: str, column: np.ndarray) -> dict[str, object]:
    """One axis of the parallel coordinates in its unit; a wide positive range is drawn as log10 with
    tick labels in the unit itself (parcoords has no log axes)."""
    unit = unit_for(name, column)
    drawn = unit.apply(column)
    label = unit.short_title(name, direction)
    if _axis_type(drawn) != "log":
        return {"label": label, "values": drawn}
    ticks = log_ticks(float(drawn.min()), float(drawn.max()))
    return {
        "label": f"{label} (log)",
        "values": np.log10(drawn),
        "tickvals": np.log10(ticks).tolist(),
        "ticktext": [tick_label(tick) for tick in ticks],
    }


def _parallel_section(data: ReportData) -> Section:
    rows = _with_values(data.trained, list(data.objectives))
    values = objective_values(rows, data.objectives)
    note = _missing_note(len(data.trained) - len(rows), "every objective")
    title = "All objectives at once (parallel coordinates)"
    if rows.empty:
        return Section("parallel", title, None, note or "nothing to draw")
    dimensions = [
        _parallel_dimension(name, direction, values[:, index])
        for index, (name, direction) in enumerate(data.objectives.items())
    ]
    numbers = rows["number"].to_numpy(dtype=float)
    trial: dict[str, object] = {"label": "trial", "values": numbers, "tickformat": "d"}
    if len(set(numbers)) <= 12:
        trial["tickvals"] = sorted(set(numbers))
    dimensions.append(trial)
    is_partial = rows["number"].isin(data.partial["number"]).to_numpy()
    colour = np.where(rows[FRONT_COLUMN].to_numpy(dtype=bool), 1.0, np.where(is_partial, 0.5, 0.0))
    scale = [[0.0, _DOMINATED_COLOUR], [0.5, _PARTIAL_COLOUR], [1.0, _FRONT_COLOUR]]
    figure = go.Figure(
        go.Parcoords(
            line={"color": colour, "colorscale": scale, "cmin": 0.0, "cmax": 1.0},
            dimensions=dimensions,
            name="trials",
        )
    )
    counts = f"{int((colour == 1.0).sum())} front (blue), {int((colour == 0.0).sum())} dominated (grey)"
    stopped = f", {int(is_partial.sum())} stopped at a lower rung (brown)" if is_partial.any() else ""
    _layout(figure, f"{counts}{stopped}; drag along an axis to filter")
    figure.update_layout(margin={"l": 80, "r": 80, "t": 100, "b": 40})
    return Section("parallel", title, figure, note)


def _scatter3d_section(data: ReportData) -> Section:
    names = list(data.objectives)
    rows = _with_values(data.trained, names)
    note = _missing_note(len(data.trained) - len(rows), "every objective")
    title = "Three objectives in 3-D"
    if rows.empty:
        return Section("scatter3d", title, None, note or "nothing to draw")
    units = [unit_for(name, rows[name].to_numpy(dtype=float)) for name in names]
    on_front = rows[FRONT_COLUMN].to_numpy(dtype=bool)
    is_partial = rows["number"].isin(data.partial["number"]).to_numpy()
    groups = (
        (~on_front & ~is_partial, DOMINATED_TRACE, {"color": _DOMINATED_COLOUR, "size": 3}),
        (is_partial, PARTIAL_TRACE, {"color": _PARTIAL_COLOUR, "size": 4, "symbol": "circle-open"}),
        (on_front, FRONT_TRACE, {"color": _FRONT_COLOUR, "size": 5}),
    )
    figure = go.Figure()
    for chosen, label, marker in groups:
        if label == PARTIAL_TRACE and not chosen.any():
            continue
        part = rows[chosen]
        coordinates = {
            axis: unit.apply(part[name].to_numpy(dtype=float))
            for axis, unit, name in zip("xyz", units, names, strict=True)
        }
        figure.add_trace(
            go.Scatter3d(
                **coordinates,
                mode="markers",
                name=label,
                marker=marker,
                customdata=_numbers(part),
                text=_texts(part, data),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    # Short titles (name, unit, arrow): the long "(lower is better)" ones ran into each other at the
    # corner where the three axes meet. The scene gets most of the height and a camera far enough out
    # that the tick labels at its far corners stay inside the plot.
    scene: dict[str, object] = {
        f"{axis}axis": {
            "title": {"text": unit.short_title(name, data.objectives[name])},
            "type": _axis_type(unit.apply(rows[name].to_numpy(dtype=float))),
            **axis_style(),
        }
        for axis, unit, name in zip("xyz", units, names, strict=True)
    }
    scene["camera"] = {"eye": {"x": 1.5, "y": 1.5, "z": 1.0}}
    scene["domain"] = {"x": [0.0, 1.0], "y": [0.0, 1.0]}
    _layout(figure, "Front trials in blue; drag to rotate", scene=scene)
    figure.update_layout(height=620, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return Section("scatter3d", title, figure, note)


# ------------------------------------------------------------------------------- hypervolume
def _hypervolume_section(data: ReportData) -> Section:
    title = "Hypervolume over time"
    if data.reference is None or data.history.empty:
        return Section("hypervolume", title, None, "no hypervolume: no reference point (see the notes above)")
    history = data.history
    normalised = bool(history["share"].notna().all())
    column = "share" if normalised else "hypervolume"
    columns = ["completed_index", "number", "completed", "hypervolume", "share"]
    texts = [
        f"after {index} completions (trial {number}, {completed})<br>hypervolume {volume:.6g}"
        + (f" ({share:.2f} of the box between the reference and ideal points)" if normalised else "")
        for index, number, completed, volume, share in history[columns].itertuples(index=False)
    ]
    figure = go.Figure(
        go.Scatter(
            x=history["completed_index"],
            y=history[column],
            mode="lines+markers",
            line={"shape": "hv", "color": _FRONT_COLOUR},
            marker={"size": 5},
            name="hypervolume",
            customdata=history["number"].astype(int).tolist(),
            text=texts,
            hovertemplate="%{text}<extra></extra>",
        )
    )
    last = history.iloc[-1]
    if normalised:
        headline = (
            f"{last['share']:.2f} of the box between the reference and ideal points (raw {last['hypervolume']:.4g})"
        )
    else:
        headline = f"{last['hypervolume']:.6g}"
    _layout(figure, f"Hypervolume of the front after each completed trial: {headline}")
    figure.update_layout(title={"subtitle": {"text": data.reference.describe()}}, margin={"t": 90})
    figure.update_xaxes(title_text="complete trials, in completion order", **integer_ticks(len(history)))
    if normalised:
        figure.update_yaxes(
            title_text="hypervolume, share of the box (reference to ideal point)", tickformat=".2f", rangemode="tozero"
        )
    else:
        figure.update_yaxes(title_text="hypervolume (product of the objectives' units)", **axis_style())
    return Section("hypervolume", title, figure)


# ---------------------------------------------------------------------------- stage choices
_GROUP_TITLES = {FRONT_GROUP: "Pareto front", OTHERS_GROUP: "other trained networks"}


def choices_figure(choices: pd.DataFrame) -> go.Figure:
    """Two heatmaps side by side (front trials, other trained trials): one row per searched field and
    value, one column per stage, the cell the share of the group's trials that chose it (``n/m`` written in)."""
    labels = list(dict.fromkeys(choices["label"]))
    stages = sorted(set(choices["stage"]))
    columns = [f"stage {stage}" for stage in stages]
    groups = [group for group in (FRONT_GROUP, OTHERS_GROUP) if group in set(choices["group"])]
    titles = []
    for group in groups:
        part = choices[(choices["group"] == group) & (choices["field"] == "block")]
        size = int(part.groupby("stage")["total"].max().max())
        titles.append(f"{_GROUP_TITLES[group]} ({size} trial{'' if size == 1 else 's'})")
    figure = make_subplots(rows=1, cols=len(groups), subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.04)
    for position, group in enumerate(groups, start=1):
        part = choices[choices["group"] == group]
        share = part.pivot(index="label", columns="stage", values="share").reindex(index=labels, columns=stages)
        count = part.pivot(index="label", columns="stage", values="count").reindex(index=labels, columns=stages)
        total = part.pivot(index="label", columns="stage", values="total").reindex(index=labels, columns=stages)
        text = [
            [f"{int(c)}/{int(t)}" if np.isfinite(s) else "" for s, c, t in zip(srow, crow, trow, strict=True)]
            for srow, crow, trow in zip(share.to_numpy(), count.to_numpy(), total.to_numpy(), strict=True)
        ]
        figure.add_trace(
            go.Heatmap(
                z=share.to_numpy(dtype=float),
                x=columns,
                y=labels,
                text=text,
                texttemplate="%{text}",
                customdata=np.dstack([count.to_numpy(dtype=float), total.to_numpy(dtype=float)]),
                hovertemplate=f"%{{x}}, %{{y}}: %{{customdata[0]}} of %{{customdata[1]}} {_GROUP_TITLES[group]}"
                " trials (%{z:.0%})<extra></extra>",
                colorscale="Blues",
                zmin=0.0,
                zmax=1.0,
                xgap=2,
                ygap=2,
                showscale=position == 1,
                colorbar={"title": {"text": "share"}, "tickformat": ".0%", "len": 0.6},
                name=group,
                meta=group,
            ),
            row=1,
            col=position,
        )
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(type="category", side="top")
    figure.update_annotations(yshift=22)  # the subplot titles sit above the stage labels, not on them
    _layout(figure, "")
    figure.update_layout(
        title=None, height=max(320, 24 * len(labels) + 150), margin={"l": 150, "r": 40, "t": 90, "b": 20}
    )
    return figure


def _choices_section(data: ReportData) -> Section:
    title = "Per-stage choices: the front versus the other trained networks"
    if data.choices.empty:
        return Section("choices", title, None, "no trained trial has a readable architecture spec")
    fields = ", ".join(dict.fromkeys(data.choices["label"].str.split(":").str[0]))
    note = (
        f"For every searched field ({fields}) and value, the share of each group's trials whose stage has it;"
        " a block-specific field counts only the stages of that block. Blank: the space does not offer that"
        " value at that stage. Hover for counts."
    )
    return Section("choices", title, choices_figure(data.choices), note)


# ----------------------------------------------------------------------- quality versus cost
def _quality_section(data: ReportData) -> Section:
    title = "Quality versus predicted training cost"
    quality, cost = data.quality, "cost.train_flops"
    if quality is None:
        return Section("quality", title, None, "no objective other than train_flops to draw against it")
    if cost not in data.trials.columns:
        return Section("quality", title, None, "no trial has a predicted training cost (cost.train_flops)")
    rows = data.trained.dropna(subset=[quality, cost])
    note = _missing_note(len(data.trained) - len(rows), f"{quality} and the predicted training FLOPs")
    if rows.empty:
        return Section("quality", title, None, note)
    (x_unit, x_axis), (y_unit, y_axis) = (
        _axis(cost, rows[cost].to_numpy(dtype=float)),
        _axis(quality, rows[quality].to_numpy(dtype=float), data.objectives[quality]),
    )
    mixes = sorted(rows[MIX_COLUMN].fillna("unknown").unique(), key=lambda mix: (mix.count("+"), mix))
    palette: Sequence[str] = qualitative.Plotly if len(mixes) <= 10 else qualitative.Dark24
    partial = set(data.partial["number"])
    figure = go.Figure()
    for index, mix in enumerate(mixes):
        part = rows[rows[MIX_COLUMN].fillna("unknown") == mix]
        on_front = part[FRONT_COLUMN].to_numpy(dtype=bool)
        stopped = part["number"].isin(partial).to_numpy()
        colour = palette[index % len(palette)]
        figure.add_trace(
            _scatter(
                part,
                data,
                (cost, quality),
                (x_unit, y_unit),
                mix,
                mode="markers",
                marker={
                    "color": colour,
                    "size": np.where(on_front, 12, 8).tolist(),
                    "symbol": np.where(on_front, "diamond", np.where(stopped, "x-thin", "circle")).tolist(),
                    "line": {
                        "color": np.where(on_front, "black", np.where(stopped, colour, "white")).tolist(),
                        "width": 1.5,
                    },
                },
            )
        )
    _layout(
        figure,
        f"{quality} against predicted training FLOPs, coloured by block mix"
        f" (diamonds: Pareto front{'; crosses: stopped at a lower rung' if partial else ''})",
    )
    legend = {"title": {"text": "blocks used"}, "orientation": "v", "x": 1.02, "xanchor": "left"}
    figure.update_layout(legend={**legend, "y": 1.0, "yanchor": "top"}, margin={"t": 90})  # below the toolbar
    x_axis["title_text"] = f"predicted training FLOPs per step ({x_unit.label}, cost model)"
    figure.update_xaxes(**x_axis)
    figure.update_yaxes(**y_axis)
    return Section("quality", title, figure, note)
