"""Fault and hostile-input tests record what they injected and what survived; the run ends with a
table of it (printed after the test summary and written to ``build/reliability-figures.md``), so
the documentation's reliability figures (docs/reliability.md) come from a run, not from memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIGURES_PATH = Path(__file__).resolve().parents[2] / "build" / "reliability-figures.md"


@dataclass(frozen=True)
class Figure:
    scenario: str
    load: str  # drivers x trials
    faults: str  # what was injected, how many times
    survived: str  # what the engine did about it
    lost: int  # completed trials lost or repeated, or study data changed (must be 0)


FIGURES: list[Figure] = []


def figures_table(figures: list[Figure]) -> str:
    lines = [
        "| scenario | load (drivers x trials) | faults injected | survived | data lost |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {f.scenario} | {f.load} | {f.faults} | {f.survived} | {f.lost} |" for f in figures]
    return "\n".join(lines)


README_PATH = FIGURES_PATH.parents[1] / "docs" / "reliability.md"
README_START, README_END = "<!-- reliability-figures:start -->", "<!-- reliability-figures:end -->"
SCENARIOS_FOR_README = 6
"""How many scenario rows a run of both suites produces: only such a run rewrites the published table."""


def update_readme(figures: list[Figure], path: Path = README_PATH) -> bool:
    """Replace the table between the page's markers with this run's, when the run produced every row."""
    if len({f.scenario for f in figures}) < SCENARIOS_FOR_README or not path.is_file():
        return False
    text = path.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    table = figures_table(figures)
    path.write_text(text[: start + len(README_START)] + "\n" + table + "\n" + text[end:])
    return True
