"""Where trial checkpoints live, and their removal once their trials have ended.

A run below the top rung leaves a checkpoint in ``<artifacts>/checkpoints/`` (``artifacts``: the
study folder unless the config names another); the promotion of its trial continues from it. The
worker writes it, so on a cluster the folder must be a path every node sees (a shared file system),
like the data. When a trial ends (complete, pruned, failed) its checkpoints go; the weights kept
at full fidelity (``weights/``) stay. A trial interrupted by a dead driver keeps them: its re-run
continues from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from nas.study.config import StudyConfig


def checkpoint_path(config: StudyConfig, trial: int, rung: int) -> Path:
    return config.artifacts_dir / "checkpoints" / f"trial-{trial}-rung-{rung}.pt"


def remove_checkpoints(paths: Iterable[str], on_error: Callable[[str], None]) -> None:
    """Delete these checkpoint files (the driver does, so it must see the folder too). One already gone, or
    never written (a simulation), is fine; one that cannot be deleted is reported, and the search goes on."""
    for path in paths:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as error:
            on_error(f"could not remove the checkpoint {path} ({error.strerror or error})")
