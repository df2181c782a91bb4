"""A results table: architectures trained once for real, with their metrics and training seconds per rung.

It is what the simulated backend replays, and what ``benchmarks/build_results_table.py`` writes:
a JSON-lines file whose first line is the header (the space, task, training budget and settings,
the rung fractions, the command that made it) and every further line one architecture (its spec,
cost and, per rung, the budget, metrics and the training seconds of the run that continued the
rung below from its checkpoint). Lines are appended as architectures finish, so a table under
construction is a valid, smaller table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.study.errors import StudyConfigError

TABLE_FORMAT = 1


@dataclass(frozen=True)
class TabulatedRung:
    """One architecture at one rung: its budget (from step 0), metrics, and the seconds that rung's run took."""

    budget: str
    metrics: dict[str, float]
    seconds: float
    """Training seconds of this rung's run, continuing the rung below (the first rung: from step 0)."""


@dataclass(frozen=True)
class ResultsTable:
    """Per architecture id, its rungs in ascending budget order (see the module docstring)."""

    header: dict[str, Any]
    rungs: dict[str, tuple[TabulatedRung, ...]]
    architectures: dict[str, dict[str, Any]]
    """Architecture id -> its spec as plain data."""

    @property
    def budgets(self) -> tuple[str, ...]:
        """The rung budgets, ascending (e.g. ``22steps``, ``67steps``, ``200steps``)."""
        return tuple(self.header["budgets"])

    @classmethod
    def load(cls, path: str | Path) -> ResultsTable:
        path = Path(path)
        try:
            lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, json.JSONDecodeError) as error:
            raise StudyConfigError(f"results table: got {str(path)!r}, which cannot be read ({error})") from error
        if not lines or lines[0].get("format") != TABLE_FORMAT:
            raise StudyConfigError(
                f"results table: got {str(path)!r}; allowed: a table of format {TABLE_FORMAT} (a JSON-lines file whose"
                " first line is its header), as benchmarks/build_results_table.py writes it"
            )
        header, rows = lines[0], lines[1:]
        rungs = {
            row["arch_id"]: tuple(TabulatedRung(r["budget"], r["metrics"], float(r["seconds"])) for r in row["rungs"])
            for row in rows
        }
        return cls(header, rungs, {row["arch_id"]: row["arch"] for row in rows})

    def rung(self, arch_id: str, budget: str) -> tuple[int, TabulatedRung]:
        """``(its index, the tabulated rung)`` of ``arch_id`` trained to ``budget``; a ``KeyError`` names what is
        missing (an architecture outside the table, or a budget the table was not trained at)."""
        if arch_id not in self.rungs:
            raise KeyError(f"architecture {arch_id} is not in the results table")
        if budget not in self.budgets:
            raise KeyError(f"budget {budget} is not a rung of the results table ({', '.join(self.budgets)})")
        index = self.budgets.index(budget)
        return index, self.rungs[arch_id][index]
