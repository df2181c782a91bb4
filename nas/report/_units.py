"""The unit each plotted quantity is drawn in, and tick rules for axes plotly would label badly.

Plotly labels a raw axis with SI suffixes (``42.4M``), which reads as mega-*bytes* on a byte axis while
the trials table and ``centaurus-nas cost`` print binary units (MiB). So every axis is drawn in one
named unit chosen from the largest value on it: bytes in KiB/MiB/GiB (binary, as in the table), FLOPs
in kFLOP/MFLOP/GFLOP, parameter counts in thousands or millions, seconds, dB. The values are divided by
the unit before plotting, the unit goes in the axis title, and the tick labels stay plain numbers
(``exponentformat="none"``). A linear rescale keeps zooming and log axes exact.

Counts (completed trials) get integer ticks: plotly's automatic ticks on a range of 1-3 are fractional.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB")
_DECIMAL = ("", "k", "M", "G", "T")
_COUNT_WORDS = ("", "thousands", "millions", "billions", "trillions")


@dataclass(frozen=True)
class Unit:
    """Drawn value = raw value / ``scale``; ``label`` names the drawn unit ("" for pure numbers)."""

    label: str
    scale: float = 1.0

    def apply(self, values: Iterable[float] | np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float) / self.scale

    def title(self, name: str, direction: str | None = None) -> str:
        """``train_peak_bytes (MiB; lower is better)``: the quantity, its unit, and which way is better."""
        parts = [self.label] if self.label else []
        if direction is not None:
            parts.append("lower is better" if direction == "minimize" else "higher is better")
        return f"{name} ({'; '.join(parts)})" if parts else name

    def short_title(self, name: str, direction: str | None = None) -> str:
        """A compact title for crowded axes (3-D scenes, parallel coordinates): ``train_flops GFLOP ↓``."""
        arrow = "" if direction is None else (" ↓" if direction == "minimize" else " ↑")
        return f"{name}{f' [{self.label}]' if self.label else ''}{arrow}"


def _largest(values: Iterable[float] | np.ndarray) -> float:
    array = np.abs(np.asarray(list(values), dtype=float))
    finite = array[np.isfinite(array)]
    return float(finite.max()) if finite.size else 0.0


def _power(largest: float, base: float, units: int) -> int:
    """The exponent of the largest unit ``base**k`` that is at most ``largest`` (0 for values under one unit)."""
    if largest < base:
        return 0
    return min(math.floor(math.log(largest, base) + 1e-9), units - 1)


def unit_for(name: str, values: Iterable[float] | np.ndarray) -> Unit:
    """The unit ``name`` (an objective, ``cost.<field>`` or ``metric.<name>``) is drawn in, given its values."""
    base = name.removeprefix("cost.").removeprefix("metric.")
    largest = _largest(values)
    if base.endswith("_bytes"):
        power = _power(largest, 1024.0, len(_BINARY))
        return Unit(_BINARY[power], 1024.0**power)
    if base.endswith("_flops"):
        power = _power(largest, 1000.0, len(_DECIMAL))
        return Unit(f"{_DECIMAL[power]}FLOP", 1000.0**power)
    if base.endswith("macs_per_second"):
        power = _power(largest, 1000.0, len(_DECIMAL))
        return Unit(f"{_DECIMAL[power]}MAC/s", 1000.0**power)
    if base == "params":
        power = _power(largest, 1000.0, len(_DECIMAL))
        return Unit(_COUNT_WORDS[power], 1000.0**power)
    if base.endswith("seconds"):
        return Unit("s")
    if base.startswith("si_snr"):
        return Unit("dB")
    return Unit("")


def axis_style() -> dict[str, object]:
    """Plain tick labels: the unit is in the title, so no SI suffix (``k``, ``M``, ``G``) on the ticks."""
    return {"exponentformat": "none", "separatethousands": True}


def integer_ticks(largest: int) -> dict[str, object]:
    """Axis settings for a count from 1 to ``largest``: whole-number ticks, at most about ten of them."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        step = candidate
        if largest / candidate <= 10:
            break
    else:
        step = 10 ** max(0, len(str(largest)) - 1)
    return {"tickmode": "linear", "tick0": 0 if step > 1 else 1, "dtick": step, "tickformat": "d"}


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values 1-2-5 x 10^k between ``low`` and ``high`` (positive), for axes drawn as log10 by hand."""
    if not (low > 0 and high > 0 and math.isfinite(low) and math.isfinite(high)):
        return []
    low, high = min(low, high), max(low, high)
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0**exponent
            if low * (1 - 1e-9) <= value <= high * (1 + 1e-9):
                ticks.append(value)
    if len(ticks) > 8:  # a wide range: keep the powers of ten only
        ticks = [value for value in ticks if f"{value:.0e}".startswith("1")]
    if len(ticks) < 2:  # a narrow range: its ends too, at two significant digits rounded inwards
        ticks = sorted({_two_digits(low, up=True), *ticks, _two_digits(high, up=False)})
    return ticks


def _two_digits(value: float, *, up: bool) -> float:
    step = 10.0 ** (math.floor(math.log10(value)) - 1)
    return (math.ceil(value / step - 1e-9) if up else math.floor(value / step + 1e-9)) * step


def tick_label(value: float) -> str:
    """A drawn value as a tick label: up to three significant digits, no exponent for everyday magnitudes."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:.2g}"
