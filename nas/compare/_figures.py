"""The comparison's figure: quality against cost with each space's front, beside hypervolume per space.

Written as an HTML page (plotly inlined by default, so no network is needed to view it) and as a PNG
rendered by kaleido, which drives a local Chrome or Chromium; without one, the PNG is skipped
with the reason and the HTML still stands.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from nas.compare._analysis import ComparisonResult
from nas.compare._variants import HETEROGENEOUS
from nas.pareto import non_dominated_mask


def _front_2d(x: np.ndarray, y: np.ndarray, maximize: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (cost down, quality up or down) front: its points sorted by cost, and the staircase through them."""
    points = np.column_stack([x, y])
    mask = non_dominated_mask(points, ["minimize", "maximize" if maximize else "minimize"])
    order = np.argsort(x[mask])
    fx, fy = x[mask][order], y[mask][order]
    return fx, fy, np.repeat(fx, 2)[1:], np.repeat(fy, 2)[:-1]


def comparison_figure(result: ComparisonResult, title: str) -> go.Figure:
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.65, 0.35],
        subplot_titles=(
            f"{result.quality} vs {result.cost}: all trials, and each space's front over all seeds",
            "normalised hypervolume per space (bar: mean over seeds; dots: seeds)",
        ),
    )
    maximize = result.directions[result.objectives.index(result.quality)] == "maximize"
    spaces = list(dict.fromkeys(result.studies["space"]))
    colours = {space: qualitative.D3[index % len(qualitative.D3)] for index, space in enumerate(spaces)}
    for space in spaces:
        mine = result.trials[result.trials["space"] == space]
        colour, width = colours[space], 3 if space == HETEROGENEOUS else 1.5
        x, y = mine[result.cost].astype(float).to_numpy(), mine[result.quality].astype(float).to_numpy()
        hover = [
            f"{space}, seed {seed}<br>{summary}" for seed, summary in zip(mine["seed"], mine["summary"], strict=True)
        ]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name=space,
                legendgroup=space,
                marker={"color": colour, "size": 7, "opacity": 0.55},
                text=hover,
                hovertemplate="%{text}<br>%{x:.3g}, %{y:.4g}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        if len(mine):
            # the space's front: its points ringed (so a front of one point shows too) and its staircase,
            # silent on hover and in the legend, hidden with the space's markers by one legend click
            px, py, fx, fy = _front_2d(x, y, maximize)
            quiet = {"legendgroup": space, "showlegend": False, "hoverinfo": "skip"}
            ring = {"color": colour, "size": 12, "symbol": "circle-open", "line": {"width": 2}}
            figure.add_trace(go.Scatter(x=px, y=py, mode="markers", marker=ring, **quiet), row=1, col=1)
            line = {"color": colour, "width": width}
            figure.add_trace(
                go.Scatter(x=fx, y=fy, mode="lines", name=f"{space} front", line=line, **quiet), row=1, col=1
            )
    table = result.spaces.set_index("space")
    figure.add_trace(
        go.Bar(
            x=spaces,
            y=[table.loc[space, "hypervolume_mean"] for space in spaces],
            marker={"color": [colours[space] for space in spaces]},
            showlegend=False,
            hovertemplate="%{x}: mean %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    studies = result.studies
    figure.add_trace(
        go.Scatter(
            x=studies["space"],
            y=studies["hypervolume"],
            mode="markers",
            showlegend=False,
            marker={"color": "black", "size": 6},
            text=[f"seed {seed}" for seed in studies["seed"]],
            hovertemplate="%{x}, %{text}: %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    figure.update_xaxes(type="log", title_text=f"{result.cost} (log)", row=1, col=1)
    figure.update_yaxes(title_text=result.quality, row=1, col=1)
    figure.update_yaxes(title_text="hypervolume / ideal box (shared reference)", row=1, col=2)
    figure.update_layout(title=title, template="plotly_white", width=1400, height=600, legend={"title": "space"})
    return figure


def write_figure(
    figure: go.Figure, folder: Path, stem: str = "fronts", *, plotlyjs: str = "inline"
) -> tuple[Path, Path | None, str | None]:
    """Write ``stem.html`` and ``stem.png``; returns both paths (PNG None when it could not be rendered) and why.

    ``plotlyjs="inline"`` makes the page work offline (about 5 MB); ``"cdn"`` loads plotly.js from
    its CDN instead (a few hundred KB: what the results committed to the repository use).
    """
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / f"{stem}.html"
    figure.write_html(html, include_plotlyjs=True if plotlyjs == "inline" else "cdn", full_html=True)
    png = folder / f"{stem}.png"
    try:
        figure.write_image(png, width=1400, height=600, scale=1)
    except Exception as error:  # kaleido missing, or no Chrome/Chromium for it to drive
        return html, None, f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    return html, png, None
