"""What a corpus generation produced: files and seconds of audio per split, bytes, where it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CorpusSummary"]


@dataclass(frozen=True)
class CorpusSummary:
    """The result of ``generate_kws`` / ``generate_denoise`` / ``generate_asr``.

    ``files`` and ``seconds`` count audio examples per split (for denoising, one clean/noisy pair is
    one example; both files are in ``bytes``). ``extra_files`` names other audio written (e.g. the
    KWS background noises), which ``files`` does not count.
    """

    corpus: str
    out: Path
    files: dict[str, int]
    seconds: dict[str, float]
    bytes: int
    elapsed_s: float
    extra_files: tuple[str, ...] = field(default=())

    @property
    def total_files(self) -> int:
        """Examples over all splits."""
        return sum(self.files.values())

    @property
    def total_seconds(self) -> float:
        """Seconds of example audio over all splits (clean and noisy counted once)."""
        return sum(self.seconds.values())

    def describe(self) -> str:
        """A few human-readable lines: per split counts and durations, totals, size and time."""
        lines = [f"{self.corpus} corpus written to {self.out}"]
        for split, count in self.files.items():
            lines.append(f"  {split:<16} {count:>6} examples  {self.seconds[split] / 60.0:8.2f} min")
        lines.append(
            f"  {'total':<16} {self.total_files:>6} examples  {self.total_seconds / 60.0:8.2f} min  "
            f"{self.bytes / 1e6:.1f} MB  in {self.elapsed_s:.1f} s"
        )
        if self.extra_files:
            lines.append(f"  also: {', '.join(self.extra_files)}")
        return "\n".join(lines)
