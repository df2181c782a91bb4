"""Numbers in human units for hover texts and the trials table (FLOPs in G, bytes in MiB, ...).

Each value is formatted on its own here; a plot axis draws all its values in one unit instead
(:mod:`nas.report._units`), binary for bytes as here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from nas.cost import format_quantity

COST_LABELS: dict[str, str] = {
    "cost.train_flops": "train FLOPs",
    "cost.train_peak_bytes": "peak memory",
    "cost.params": "params",
}
"""The cost breakdown every hover text and the table show, with their labels."""


def is_missing(value: object) -> bool:
    """None, NaN, pd.NA and NaT alike (a frame mixes all of them)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values are never "missing" as a whole
        return False


def format_value(name: str, value: object) -> str:
    """``value`` of the quantity ``name`` in its natural unit; ``n/a`` when missing."""
    if is_missing(value):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    return format_quantity(name, number)


def sort_key(value: object) -> str:
    """The raw value a table cell sorts by: a full-precision number, text, or empty when missing."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def hover_text(row: Mapping[str, Any], objectives: Mapping[str, str]) -> str:
    """One trial for a hover box: number and architecture, its objectives, its cost breakdown (plotly HTML)."""
    lines = [f"<b>trial {row['number']}</b>"]
    summary = row.get("summary")
    if not is_missing(summary):
        lines.append(_escape(str(summary)))
    source = row.get("values_from")
    if not is_missing(source) and source != "final":
        lines.append(f"<i>{row.get('state')}: values at {_escape(str(source))}</i>")
    for name, direction in objectives.items():
        arrow = "↓" if direction == "minimize" else "↑"
        lines.append(f"{name} {arrow} = {format_value(name, row.get(name))}")
    breakdown = [f"{label} {format_value(column, row.get(column))}" for column, label in COST_LABELS.items()]
    lines.append("cost: " + ", ".join(breakdown))
    duplicate = row.get("duplicate_of")
    if duplicate is not None and not is_missing(duplicate):
        lines.append(f"same architecture as trial {int(duplicate)}")
    return "<br>".join(lines)


def _escape(text: str) -> str:
    """Plotly renders a subset of HTML in hover texts: keep summaries (``kws | s5 ...``) literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
