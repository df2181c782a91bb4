"""The unit each axis is drawn in, and the tick rules for counts and hand-made log axes."""

from __future__ import annotations

import numpy as np
import pytest

from nas.report._units import Unit, integer_ticks, log_ticks, tick_label, unit_for


@pytest.mark.parametrize(
    ("name", "largest", "label", "scale"),
    [
        ("train_peak_bytes", 42.4e6, "MiB", 2.0**20),  # what plotly labelled "42.4M"
        ("cost.train_peak_bytes", 3 * 2.0**30, "GiB", 2.0**30),
        ("stream_state_bytes", 900.0, "B", 1.0),
        ("activation_bytes", 1023 * 2.0**10, "KiB", 2.0**10),  # under 1 MiB stays in KiB
        ("train_flops", 3.86e8, "MFLOP", 1e6),
        ("cost.train_flops", 1.2e10, "GFLOP", 1e9),
        ("params", 118_275, "thousands", 1e3),
        ("params", 5.7e5 * 10, "millions", 1e6),
        ("inference_macs_per_second", 1.85e8, "MMAC/s", 1e6),
        ("train_seconds", 4000.0, "s", 1.0),
        ("si_snri", 3.0, "dB", 1.0),
        ("accuracy", 0.8, "", 1.0),
    ],
)
def test_the_unit_comes_from_the_quantity_and_its_largest_value(
    name: str, largest: float, label: str, scale: float
) -> None:
    unit = unit_for(name, np.array([largest / 7, largest, np.nan]))
    assert (unit.label, unit.scale) == (label, scale)
    assert unit.apply([largest])[0] == pytest.approx(largest / scale)


def test_titles_name_the_unit_and_the_better_direction() -> None:
    assert Unit("MiB", 2.0**20).title("train_peak_bytes", "minimize") == "train_peak_bytes (MiB; lower is better)"
    assert Unit("").title("accuracy", "maximize") == "accuracy (higher is better)"
    assert Unit("GFLOP", 1e9).title("flops") == "flops (GFLOP)"
    assert Unit("").title("hypervolume") == "hypervolume"
    assert Unit("MiB", 2.0**20).short_title("train_peak_bytes", "minimize") == "train_peak_bytes [MiB] ↓"


@pytest.mark.parametrize("largest", [1, 2, 3, 7, 10, 11, 24, 60, 140, 999, 5000])
def test_counts_get_whole_ticks_about_ten_at_most(largest: int) -> None:
    settings = integer_ticks(largest)
    step = settings["dtick"]
    assert isinstance(step, int) and step >= 1 and settings["tickformat"] == "d"
    assert largest / step <= 10
    ticks = [settings["tick0"] + k * step for k in range(0, largest // step + 2)]
    assert [tick for tick in ticks if tick <= largest] and all(float(tick).is_integer() for tick in ticks)


def test_log_ticks_are_round_values_inside_the_range() -> None:
    assert log_ticks(266.8, 718.3) == pytest.approx([270.0, 500.0, 710.0])  # the ends, rounded inwards
    assert log_ticks(0.8, 120.0) == [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    assert log_ticks(1.0, 1e6) == [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0]
    assert log_ticks(-1.0, 5.0) == []
    assert [tick_label(value) for value in (0.0, 0.005, 2.0, 250.0, 1500.0, 2.5e7)] == [
        "0",
        "0.005",
        "2",
        "250",
        "1,500",
        "2.5e+07",
    ]
