"""The report in a real browser: headless Chromium loads the page from disk (no network), runs its
JavaScript, and we read back the DOM it ends with and a screenshot.

No browser-automation package is needed: ``--dump-dom`` prints the DOM after the page loaded (and
its timers ran, ``--virtual-time-budget``), and the page records every JavaScript error into
``#report-js-errors`` itself. A plot counts as rendered when plotly turned its div into a
``js-plotly-plot`` holding SVG (and, for 2-D traces, one SVG ``point`` per trial drawn).

Screenshots go to ``build/report-screenshots/`` in the repository (ignored by git), or to
``$CENTAURUS_SCREENSHOT_DIR``; copy them to ``docs/`` for the README.
Skipped only when no Chromium binary exists (on Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest

from nas.report import write_report
from nas.report._page import ERRORS_ID, TABLE_ID
from nas.study import StudyConfig
from nas.study.storage import open_study
from tests.nas.report.studies import plot_data
from tests.support.studies import kws_space, kws_study

REPO = Path(__file__).resolve().parents[3]
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if shutil.which(explicit) else None
    return next((found for found in map(shutil.which, _NAMES) if found), None)


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary (chromium, chromium-browser, google-chrome or $CHROMIUM) on PATH;"
    " on Debian: apt-get install -y chromium",
)
_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # software WebGL for parallel coordinates and the 3-D view
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=20000",
)


def _screenshot_dir() -> Path:
    folder = Path(os.environ.get("CENTAURUS_SCREENSHOT_DIR") or REPO / "build" / "report-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _load(page: Path, profile: Path, screenshot: Path | None = None, size: tuple[int, int] = (1400, 2200)) -> str:
    """The DOM of ``page`` after headless Chromium ran it (and a PNG screenshot of its top, if asked)."""
    assert CHROMIUM is not None
    command = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"]
    if screenshot is not None:
        command.append(f"--screenshot={screenshot}")
    command += ["--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr[-3000:]}"
    assert "</html>" in done.stdout, f"no DOM from chromium:\n{done.stderr[-3000:]}"
    return done.stdout


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class _Plot:
    """What one plot div holds once plotly drew it: SVG, points, canvases, images (heatmaps) and the tick
    labels of each axis (``xtick``, ``ytick``, ``x2tick``, ...) as the reader sees them."""

    svg: int = 0
    main_svg: int = 0
    points: int = 0
    canvas: int = 0
    images: int = 0
    ticks: dict[str, list[str]] = field(default_factory=dict)


_TICK = re.compile(r"^[xy]\d*tick$")


class _Dom(HTMLParser):
    """What the tests need from a dumped DOM: plot divs and their content, the error box, table rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.plots: dict[str, _Plot] = {}
        self.errors_count: str | None = None
        self.errors_text = ""
        self.table_rows = 0
        self._stack: list[tuple[str, str | None]] = []  # open elements: (tag, role or None)

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in attributes}
        classes = attrs.get("class", "").split()
        for _, role in self._stack:
            if role is not None and role.startswith("plot:"):
                plot = self.plots[role.removeprefix("plot:")]
                plot.svg += tag == "svg"
                plot.main_svg += tag == "svg" and "main-svg" in classes
                plot.points += "point" in classes
                plot.canvas += tag == "canvas"
                plot.images += tag == "image"
        parent = self._stack[-1][1] if self._stack else None
        role = None
        tick = next((name for name in classes if _TICK.match(name)), None)
        if tick is not None and self._plot() is not None:
            role = f"tick:{tick}"
        elif "js-plotly-plot" in classes:
            key = attrs.get("id") or f"anonymous-{len(self.plots)}"
            self.plots[key] = _Plot()
            role = f"plot:{key}"
        elif attrs.get("id") == ERRORS_ID:
            self.errors_count = attrs.get("data-count")
            role = "errors"
        elif tag == "table" and attrs.get("id") == TABLE_ID:
            role = "table"
        elif tag == "tbody" and parent == "table":
            role = "tbody"
        elif tag == "tr" and parent == "tbody":
            self.table_rows += 1
        if tag not in _VOID:
            self._stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        if all(open_tag != tag for open_tag, _ in self._stack):
            return
        while self._stack and self._stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if any(role == "errors" for _, role in self._stack):
            self.errors_text += data
        tick = next((role for _, role in reversed(self._stack) if role and role.startswith("tick:")), None)
        plot = self._plot()
        if tick is not None and plot is not None:
            plot.ticks.setdefault(tick.removeprefix("tick:"), []).append(data)

    def _plot(self) -> _Plot | None:
        role = next((role for _, role in self._stack if role and role.startswith("plot:")), None)
        return self.plots[role.removeprefix("plot:")] if role else None


def _parse(dom: str) -> _Dom:
    parser = _Dom()
    parser.feed(dom)
    parser.close()
    return parser


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def _check_rendered(page: Path, dom: str, trials: int) -> _Dom:
    parsed = _parse(dom)
    assert parsed.errors_count == "0" and not parsed.errors_text.strip(), f"JavaScript errors: {parsed.errors_text}"
    expected = plot_data(page.read_text(encoding="utf-8"))
    assert expected, "the report has no plots"
    assert set(parsed.plots) == set(expected), "every plot div became a rendered plotly plot"
    for key, plot in parsed.plots.items():
        assert plot.main_svg >= 1 and plot.svg >= 1, f"{key}: no SVG"
        kinds = {trace.get("type", "scatter") for trace in expected[key]}
        if kinds <= {"scatter", "bar"}:
            drawn = sum(len(trace.get("customdata") or []) for trace in expected[key] if trace.get("mode") != "lines")
            assert plot.points >= drawn > 0, f"{key}: {plot.points} SVG points drawn for {drawn} data points"
        elif kinds == {"heatmap"}:  # plotly paints a heatmap into an SVG image
            assert plot.images >= len(expected[key]), f"{key}: {plot.images} images for {len(expected[key])} heatmaps"
        else:  # WebGL traces draw on a canvas; their axes and legend are SVG
            assert plot.canvas >= 1, f"{key}: no canvas"
    assert parsed.table_rows == trials
    return parsed


def _render_with_screenshot(
    studied: tuple[StudyConfig, optuna.Study], tmp_path: Path, name: str, size: tuple[int, int] = (1400, 2200)
) -> tuple[_Dom, Path]:
    """Write the study's report, load it in Chromium with a screenshot to ``name`` (the old one removed
    first, so a stale file cannot pass), and check that it rendered: (what rendered, the screenshot)."""
    config, study = studied
    files = write_report(study, config, tmp_path / "report")
    shot = _screenshot_dir() / name
    shot.unlink(missing_ok=True)
    dom = _load(files.html, tmp_path / "profile", screenshot=shot, size=size)
    return _check_rendered(files.html, dom, trials=len(study.trials)), shot


def test_report_renders_in_chromium_without_errors(
    three_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    parsed, shot = _render_with_screenshot(three_study, tmp_path, "report-three-objectives.png")
    assert {"plot-parallel", "plot-scatter3d"} <= set(parsed.plots)
    assert _png_size(shot) == (1400, 2200) and shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")


_SI_SUFFIX = re.compile(r"^-?[\d.,]+\s?[kMGTPµmunp]$")
"""A tick label like ``42.4M``: plotly's SI suffix, which on a byte axis reads as mega-bytes, not MiB."""


def test_halving_report_shows_every_trained_network_with_readable_ticks(
    halving_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    parsed, shot = _render_with_screenshot(halving_study, tmp_path, "report-halving.png", size=(1400, 5600))
    assert {"plot-choices", "plot-scatter3d", "plot-parallel"} <= set(parsed.plots)
    for key, plot in parsed.plots.items():
        for axis, labels in plot.ticks.items():
            assert not [label for label in labels if _SI_SUFFIX.match(label.strip())], f"{key} {axis}: {labels}"
    # two completions: plotly alone ticks 1, 1.2, 1.4, ...; whole numbers only, each once
    counts = [label.strip() for label in parsed.plots["plot-hypervolume"].ticks["xtick"]]
    assert counts == ["1", "2"], counts
    # the stages and the searched values label the choices view
    choices = parsed.plots["plot-choices"].ticks
    assert {"stage 0", "stage 1"} <= {label.strip() for label in choices["xtick"]}
    assert {"block: s5", "channels: 16", "states: 8"} <= {label.strip() for label in choices["ytick"]}
    assert _png_size(shot) == (1400, 5600)
    print(f"screenshot: {shot}")


def test_accuracy_report_with_failed_trials_renders(
    hand_study: tuple[StudyConfig, optuna.Study], tmp_path: Path
) -> None:
    _, shot = _render_with_screenshot(hand_study, tmp_path, "report-accuracy.png", size=(1400, 1400))
    assert _png_size(shot) == (1400, 1400)
    print(f"screenshot: {shot}")


def test_empty_report_renders_and_a_broken_script_is_caught(tmp_path: Path) -> None:
    space = kws_space("tiny", {"block": ["dws", "s5"], "channels": [8], "num_states": [4], "stride": 4})
    config = StudyConfig.from_dict(kws_study("empty", tmp_path, space, {"train_flops": "minimize"}))
    files = write_report(open_study(config), config, tmp_path / "report")
    parsed = _parse(_load(files.html, tmp_path / "profile"))
    assert parsed.errors_count == "0" and not parsed.plots and parsed.table_rows == 1  # the "no trials yet" row

    # the recorder is what the checks above rely on: a failing script must show up in the DOM
    broken = tmp_path / "broken.html"
    page = files.html.read_text(encoding="utf-8")
    broken.write_text(page.replace("</body>", "<script>undefinedFunction();</script></body>"), encoding="utf-8")
    parsed = _parse(_load(broken, tmp_path / "profile"))
    assert parsed.errors_count == "1" and "undefinedFunction" in parsed.errors_text
