"""Checkpoints that let a training run continue exactly where an earlier one stopped.

A multi-fidelity promotion continues the network the lower rung trained instead of training it
again from step 0. That is exact only if everything the next step depends on is restored: the
weights and buffers, the optimiser's state (AdamW's moments and step counts), where the run stands
(:class:`LoopState`: steps, epochs, seconds, the position in the current epoch's batches, the
learning-curve window) and the random generators torch draws from. The data order needs no state
of its own: each epoch's order depends only on (seed, epoch), and a resumed epoch skips the batches
already drawn. Python's and NumPy's global generators are not saved: training draws nothing from
them (augmentation draws from (seed, epoch, index)).

A checkpoint also records whose it is (``identity``: the architecture, the schedule's budget and the
training settings that shape the run); one that is missing, unreadable or of another run raises
:class:`CheckpointError`, and the caller trains from step 0 instead (with a warning).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from centaurus.errors import CentaurusError
from nas.tasks.results import CurvePoint

FORMAT = 1


class CheckpointError(CentaurusError):
    """A checkpoint that cannot be continued from: missing, unreadable, or of another run (the message says which)."""


@dataclass
class LoopState:
    """Where a training run stands; the training loop advances it in place, a checkpoint stores it."""

    steps: int = 0
    epoch: int = 0
    batch: int = 0
    """Batches of ``epoch`` already drawn (unreadable ones included)."""
    epochs: float = 0.0
    seconds: float = 0.0
    """Training seconds so far, over every run that continued this one."""
    skipped: int = 0
    epoch_skipped: int = 0
    """Unreadable batches of ``epoch`` so far (an epoch of nothing else fails the run)."""
    curve: list[CurvePoint] = field(default_factory=list)
    window_loss: float = 0.0
    window_steps: int = 0
    next_point: float | None = None
    """Schedule progress at which the next curve point is recorded (``None``: not started)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopState:
        return cls(**{**data, "curve": [CurvePoint(**point) for point in data["curve"]]})


def save_checkpoint(
    path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer, state: LoopState, identity: dict[str, Any]
) -> None:
    """Write the checkpoint atomically (a reader never sees half a file, even on a shared file system)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    payload = {
        "format": FORMAT,
        "identity": identity,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "loop": state.to_dict(),
        "rng": rng,
    }
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def restore_checkpoint(
    path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer, identity: dict[str, Any]
) -> LoopState:
    """Load the checkpoint into ``model`` and ``optimizer``, set torch's generators, return the loop's state.

    The file is read and checked before anything is loaded, and the generators are set last; after
    a :class:`CheckpointError`, start from a freshly built model and optimiser all the same.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is missing")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file: any unpickling error means "cannot continue"
        headline = (str(error).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(f"checkpoint {path} is unreadable ({type(error).__name__}: {headline})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a training checkpoint of format {FORMAT}")
    if payload.get("identity") != identity:
        raise CheckpointError(f"checkpoint {path} belongs to another run (architecture, schedule or training settings)")
    try:
        state = LoopState.from_dict(payload["loop"])
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} does not fit this network ({type(error).__name__})") from error
    torch.set_rng_state(payload["rng"]["torch"])
    if "cuda" in payload["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["rng"]["cuda"])
    return state
