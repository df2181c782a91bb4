"""Training settings shared by the three tasks (optimiser, schedule, batching, device, seed)."""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, fields

import torch

from nas.errors import TaskConfigError


@dataclass(frozen=True)
class TrainingConfig:
    """How a task trains a network; recorded with every trial so that a run can be repeated.

    ``ssm_lr`` is the (smaller, decay-free) learning rate of the state matrices' ``a_re``/``a_im``
    and the steps ``log_dt``: as in S4/S4D, these set the kernels' time scales and become unstable
    at the rate that suits the projections.
    """

    batch_size: int = 32
    lr: float = 3e-3
    ssm_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    eval_batch_size: int = 32
    max_eval_items: int | None = None
    curve_points: int = 50
    num_workers: int = 0
    augment: bool = False
    """KWS only: time shift, gain and background noise on training clips (see ``nas.data.augment``)."""
    progress: bool = True

    def __post_init__(self) -> None:
        """Check every field's type as well as its range: these values come from YAML and the command line,
        where ``lr: fast`` or ``device: 0`` must be named as a bad setting, not end in a ``TypeError``."""
        for name in ("batch_size", "eval_batch_size", "curve_points"):
            _positive_int(name, getattr(self, name))
        for name in ("lr", "ssm_lr", "grad_clip"):
            if not _finite_number(getattr(self, name)) or not getattr(self, name) > 0:
                raise TaskConfigError(f"training.{name}: got {getattr(self, name)!r}; allowed: a positive number")
        if not _finite_number(self.weight_decay) or not self.weight_decay >= 0:
            raise TaskConfigError(f"training.weight_decay: got {self.weight_decay!r}; allowed: a number >= 0")
        if not _finite_number(self.warmup_fraction) or not 0 <= self.warmup_fraction < 1:
            raise TaskConfigError(f"training.warmup_fraction: got {self.warmup_fraction!r}; allowed: 0 <= x < 1")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise TaskConfigError(f"training.seed: got {self.seed!r}; allowed: an integer >= 0")
        if not isinstance(self.device, str) or (
            self.device not in ("auto", "cpu") and not self.device.startswith("cuda")
        ):
            raise TaskConfigError(f"training.device: got {self.device!r}; allowed: auto, cpu, cuda, cuda:N")
        if self.threads is not None:
            _positive_int("threads", self.threads)
        if self.max_eval_items is not None:
            _positive_int("max_eval_items", self.max_eval_items)
        if not isinstance(self.num_workers, int) or isinstance(self.num_workers, bool) or self.num_workers < 0:
            raise TaskConfigError(f"training.num_workers: got {self.num_workers!r}; allowed: an integer >= 0")
        for name in ("augment", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise TaskConfigError(f"training.{name}: got {getattr(self, name)!r}; allowed: true or false")

    def resolved_device(self) -> torch.device:
        """``auto`` is the first CUDA device when there is one, else the CPU."""
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise TaskConfigError(f"training.device: got {self.device!r} but no CUDA device is available; use cpu")
        return torch.device(self.device)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> TrainingConfig:
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise TaskConfigError(
                f"training: unknown key(s) {', '.join(unknown)}{hint}; allowed: {', '.join(sorted(known))}"
            )
        return cls(**data)  # type: ignore[arg-type]


def _finite_number(value: object) -> bool:
    """An int or float (not a bool, not NaN or infinite): what a rate, fraction or clip norm must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TaskConfigError(f"training.{name}: got {value!r}; allowed: a positive integer")
