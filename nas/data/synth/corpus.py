"""One entry point from a task name to its synthetic corpus: what studies call when their data is missing."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nas.data.synth.asr import ASRConfig, generate_asr
from nas.data.synth.denoise import DenoiseConfig, generate_denoise
from nas.data.synth.kws import KWSConfig, generate_kws
from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError

_GENERATORS = {
    "kws": (KWSConfig, generate_kws),
    "denoise": (DenoiseConfig, generate_denoise),
    "asr": (ASRConfig, generate_asr),
}


def generate_corpus(
    task: str, out: str | Path, *, workers: int = 1, progress: bool = True, **options: Any
) -> CorpusSummary:
    """Generate ``task``'s corpus in ``out``; ``options`` are fields of that task's config dataclass."""
    if task not in _GENERATORS:
        raise DatasetError(f"generate_data: got task {task!r}; allowed: {', '.join(_GENERATORS)}")
    config_type, generate = _GENERATORS[task]
    known = {field.name for field in dataclasses.fields(config_type)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DatasetError(
            f"generate_data: unknown option(s) {', '.join(unknown)} for {task}; allowed: {', '.join(sorted(known))}"
        )
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in options.items()}
    return generate(Path(out), config_type(**values), workers=workers, progress=progress)
