"""Supernet checkpoints: a killed training run resumes from one, an estimate loads one, and neither
accepts a checkpoint of another space or package version.

A supernet's tensors are addressed by the storage layout its space induces; a checkpoint of another
space may load without a shape error (equal maxima) and yet mean different paths, and one written by
another version of the package may have another layout. So the checkpoint records the supernet's
:meth:`~centaurus.supernet.Supernet.fingerprint`, the space itself and the package version, and both
are compared before any tensor is read into the network.
"""

from __future__ import annotations

import importlib.metadata
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from centaurus.supernet import Supernet
from nas.tasks.checkpoint import CheckpointError, LoopState
from search_spaces import SearchSpace

SUPERNET_CHECKPOINT_FORMAT = 1


class SupernetCheckpointError(CheckpointError):
    """A supernet checkpoint that is missing, unreadable, or of another space, version or run (the message says)."""


def package_version() -> str:
    """The installed ``centaurus-nas`` version (``unknown`` when run from an uninstalled tree)."""
    try:
        return importlib.metadata.version("centaurus-nas")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class SupernetCheckpoint:
    """What a supernet checkpoint holds, read and checked (tensors not yet loaded anywhere)."""

    path: Path
    fingerprint: str
    version: str
    space: dict[str, Any]
    identity: dict[str, Any]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None
    loop: LoopState
    rng: dict[str, Any]


def save_supernet_checkpoint(
    path: str | Path,
    supernet: Supernet,
    optimizer: torch.optim.Optimizer | None,
    state: LoopState,
    identity: dict[str, Any],
    path_rng: random.Random,
) -> None:
    """Write atomically (a reader never sees half a file): weights, optimiser, loop state, every generator."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    version, internal, gauss = path_rng.getstate()
    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "paths": [version, list(internal), gauss]}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    payload = {
        "format": SUPERNET_CHECKPOINT_FORMAT,
        "kind": "supernet",
        "fingerprint": supernet.fingerprint(),
        "version": package_version(),
        "space": supernet.space.to_dict(),
        "identity": identity,
        "model": supernet.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "loop": state.to_dict(),
        "rng": rng,
    }
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def read_supernet_checkpoint(path: str | Path, fingerprint: str | None = None) -> SupernetCheckpoint:
    """Read and check a checkpoint: format, package version and (when given) the supernet ``fingerprint``.

    Raises :class:`SupernetCheckpointError` naming what does not match; nothing is loaded into a network.
    """
    path = Path(path)
    if not path.is_file():
        raise SupernetCheckpointError(f"supernet checkpoint {path} is missing")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated or foreign file: any unpickling error means "cannot use"
        headline = (str(error).strip().splitlines() or [""])[0][:200]
        raise SupernetCheckpointError(
            f"supernet checkpoint {path} is unreadable ({type(error).__name__}: {headline})"
        ) from error
    if not isinstance(payload, dict) or payload.get("kind") != "supernet":
        raise SupernetCheckpointError(f"checkpoint {path} is not a supernet checkpoint")
    if payload.get("format") != SUPERNET_CHECKPOINT_FORMAT:
        raise SupernetCheckpointError(
            f"supernet checkpoint {path}: format {payload.get('format')!r}; allowed: {SUPERNET_CHECKPOINT_FORMAT}"
        )
    ours = package_version()
    if payload.get("version") != ours:
        raise SupernetCheckpointError(
            f"supernet checkpoint {path} was written by centaurus-nas {payload.get('version')}, this is {ours};"
            " refused: its storage layout may differ (train the supernet again with this version)"
        )
    space_name = (payload.get("space") or {}).get("name", "?")
    if fingerprint is not None and payload.get("fingerprint") != fingerprint:
        raise SupernetCheckpointError(
            f"supernet checkpoint {path} is of another search space ({space_name!r}, fingerprint"
            f" {payload.get('fingerprint')}); this supernet's fingerprint is {fingerprint}; refused, since its"
            " tensors would be read as other paths' weights"
        )
    try:
        return SupernetCheckpoint(
            path=path,
            fingerprint=payload["fingerprint"],
            version=payload["version"],
            space=payload["space"],
            identity=payload["identity"],
            model=payload["model"],
            optimizer=payload["optimizer"],
            loop=LoopState.from_dict(payload["loop"]),
            rng=payload["rng"],
        )
    except (KeyError, TypeError) as error:
        raise SupernetCheckpointError(f"supernet checkpoint {path} is incomplete ({type(error).__name__})") from error


def check_checkpoint_space(path: str | Path, space: SearchSpace) -> None:
    """Refuse, before anything is estimated, a checkpoint whose supernet cannot hold every architecture of
    ``space`` (another task, fewer choices, other sizes), or one of another format or package version.

    Containment, not equality: ``compare`` estimates a homogeneous sub-space on the heterogeneous study's
    supernet, whose paths include every homogeneous architecture.
    """
    from centaurus.errors import CentaurusConfigError
    from centaurus.supernet import check_subspace

    checkpoint = read_supernet_checkpoint(path)
    trained = SearchSpace.from_dict(checkpoint.space)
    try:
        check_subspace(space, trained)
    except CentaurusConfigError as error:
        raise SupernetCheckpointError(
            f"supernet checkpoint {path} is a supernet of space {trained.name!r}, which does not hold every"
            f" architecture of space {space.name!r} ({error}); refused, since those architectures would read"
            " weights it never trained"
        ) from error


def load_supernet(path: str | Path, device: torch.device | str = "cpu") -> Supernet:
    """The supernet a checkpoint holds, rebuilt from the space it records (version checked; fingerprint re-derived
    from that space must match the recorded one, so a tampered or foreign layout is refused)."""
    checkpoint = read_supernet_checkpoint(path)
    supernet = Supernet(SearchSpace.from_dict(checkpoint.space))
    if supernet.fingerprint() != checkpoint.fingerprint:
        raise SupernetCheckpointError(
            f"supernet checkpoint {path}: its space gives fingerprint {supernet.fingerprint()}, it records"
            f" {checkpoint.fingerprint}; refused"
        )
    supernet.load_state_dict(checkpoint.model)
    return supernet.to(device)


def restore_rngs(rng: dict[str, Any], path_rng: random.Random) -> None:
    """Set torch's generators and the path sampler's as they were when the checkpoint was written."""
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    version, internal, gauss = rng["paths"]
    path_rng.setstate((version, tuple(internal), gauss))
