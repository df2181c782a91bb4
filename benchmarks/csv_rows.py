"""One CSV row per measured record, written as soon as it exists, shared by the benchmarks."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class LayerShape:
    """The leading columns of every per-layer row: which layer, at which sizes. Both layer benchmarks
    measure the same shapes, so their CSVs line up column for column and can be joined on these."""

    mode: str
    batch: int
    in_channels: int
    out_channels: int
    states: int
    length: int


class CsvRows:
    """Appends one row per record as soon as it is measured (a long run keeps its partial results).

    ``append`` continues an existing file (its header is already written)."""

    def __init__(self, path: Path | None, append: bool = False) -> None:
        self.path = path
        self.started = append

    def write(self, record: Any) -> None:
        """Write a dataclass instance as one row (the header first, on the first call of a new file)."""
        if self.path is None:
            return
        values = asdict(record)
        if not self.started:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("w", newline="") as handle:
                csv.DictWriter(handle, fieldnames=list(values)).writeheader()
            self.started = True
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=list(values)).writerow(values)
