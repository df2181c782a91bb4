"""Validation of generation settings: errors name the field, the bad value and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence

from nas.data.synth.noise import NOISE_KINDS, SYNTHETIC_NOISE_KINDS
from nas.errors import DatasetError


def check_count(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DatasetError(f"{name}={value!r} must be an integer >= {minimum}")


def check_fraction(name: str, value: float, *, upper: float = 1.0, inclusive: bool = True) -> None:
    if not 0.0 <= value <= upper or (not inclusive and value >= upper):
        raise DatasetError(f"{name}={value!r} must be between 0 and {upper}")


def check_interval(name: str, pair: Sequence[float], lowest: float, highest: float) -> None:
    if len(pair) != 2 or not lowest <= pair[0] <= pair[1] <= highest:
        raise DatasetError(f"{name}={tuple(pair)!r} must be (low, high) with {lowest} <= low <= high <= {highest}")


def resolve_noise_kinds(name: str, kinds: Sequence[str] | None, noise_dir: str | None) -> tuple[str, ...]:
    """The kinds to draw from: the given ones, or all synthetic kinds plus 'real' when a noise folder is set."""
    if kinds is None:
        return (*SYNTHETIC_NOISE_KINDS, "real") if noise_dir else SYNTHETIC_NOISE_KINDS
    kinds = tuple(kinds)
    unknown = [kind for kind in kinds if kind not in NOISE_KINDS]
    if not kinds or unknown:
        raise DatasetError(f"{name}={kinds!r} must be a non-empty subset of {', '.join(NOISE_KINDS)}")
    if "real" in kinds and not noise_dir:
        raise DatasetError(f"{name} contains 'real' but noise_dir is not set; give a folder of noise recordings")
    return kinds
