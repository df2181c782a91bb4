"""Numbers with units in study configs: ``4 GiB``, ``2.5G`` (FLOPs), ``500k``, ``30m`` (time)."""

from __future__ import annotations

import math
import re

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]*)\s*$")
_SCALES = {
    "": 1.0,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "KiB": 2.0**10,
    "MiB": 2.0**20,
    "GiB": 2.0**30,
    "TiB": 2.0**40,
    "B": 1.0,
}
_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
QUANTITY_FORMS = "a number, optionally with a unit: k, M, G, T (powers of 10), KiB, MiB, GiB, TiB, or B"
DURATION_FORMS = "a number of seconds, or a number with a unit: 90s, 30m, 2h, 1d"


def parse_quantity(value: object) -> float | None:
    """The value as a float, or ``None`` when it is not a finite number or a number with a known unit."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None or match.group(2) not in _SCALES:
        return None
    return float(match.group(1)) * _SCALES[match.group(2)]


def parse_duration(value: object) -> float | None:
    """Seconds, or ``None`` when the value is not a positive duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None or match.group(2) not in {**_SECONDS, "": 1.0}:
            return None
        seconds = float(match.group(1)) * {**_SECONDS, "": 1.0}[match.group(2)]
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None
