"""The frame every corpus generator shares: its public call, its clock, and its finished manifest.

``generate_kws``, ``generate_denoise`` and ``generate_asr`` took the same arguments, checked them
alike and ended alike (a summary of what was written, the manifest marked complete). Each corpus
now supplies only its writer; an option or a change to how a run ends is made here, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from nas.data.synth._output import write_manifest
from nas.data.synth.settings import WORKERS
from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError

C = TypeVar("C")


@dataclass(frozen=True)
class GeneratorRun:
    """One generator call's options, as the corpus's writer receives them, and when the call began."""

    workers: int
    overwrite: bool
    progress: bool
    started: float = field(default_factory=time.perf_counter)

    def finish(
        self,
        out: Path,
        manifest: dict[str, object],
        summary: Callable[[float], CorpusSummary],
        **facts: object,
    ) -> CorpusSummary:
        """The summary (``summary(elapsed seconds)``), once ``manifest`` has been completed with the
        summary's file counts and ``facts`` and written: the files are all there when it says so."""
        written = summary(time.perf_counter() - self.started)
        manifest.update(complete=True, files=written.files, **facts)
        write_manifest(out, manifest)
        return written


class CorpusGenerator(Generic[C]):
    """A corpus's public generator: ``generate(out, config=None, *, workers=1, overwrite=False,
    progress=True)``, calling the corpus's ``write(out, config, run)``."""

    def __init__(
        self, layout: str, default: Callable[[], C], write: Callable[[Path, C, GeneratorRun], CorpusSummary]
    ) -> None:
        self.default = default
        self.write = write
        self.__doc__ = (
            f"Write a {layout}-style corpus to ``out`` and return what was written.\n\n"
            "``workers`` processes synthesise in parallel (the files do not depend on it). ``out`` must be\n"
            "empty, new, or a previous output of this generator, unless ``overwrite``."
        )

    def __call__(
        self,
        out: str | Path,
        config: C | None = None,
        *,
        workers: int = 1,
        overwrite: bool = False,
        progress: bool = True,
    ) -> CorpusSummary:
        config = config or self.default()
        WORKERS.check(workers, "workers", DatasetError)
        return self.write(Path(out), config, GeneratorRun(workers, overwrite, progress))
