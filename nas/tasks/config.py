"""Training settings shared by the three tasks (optimiser, schedule, batching, device, seed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch

from fieldspec import Boolean, Field, Fraction, Integer, Number, Satisfies, check_fields, unknown_keys_listed
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
        check_fields(self, TRAINING_FIELDS, "training.", TaskConfigError)

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
        unknown_keys_listed(data, [field.name for field in fields(cls)], "training", TaskConfigError)
        return cls(**data)  # type: ignore[arg-type]


def _device(value: object) -> bool:
    return isinstance(value, str) and (value in ("auto", "cpu") or value.startswith("cuda"))


_POSITIVE = Number(strict=True, text="a positive number")
TRAINING_FIELDS: tuple[Field, ...] = (
    Field("batch_size", Integer(), 32, "training batch size", flag="--batch-size"),
    Field("lr", _POSITIVE, 3e-3, "learning rate of the projections", flag="--lr"),
    Field(
        "ssm_lr", _POSITIVE, 1e-3, "learning rate of the state matrices and steps (no weight decay)", flag="--ssm-lr"
    ),
    Field("weight_decay", Number(), 0.01, "AdamW weight decay of the projections"),
    Field("warmup_fraction", Fraction(strict_maximum=True, text="0 <= x < 1"), 0.05, "share of steps warming up"),
    Field("grad_clip", _POSITIVE, 1.0, "gradient norm clip"),
    Field("seed", Integer(minimum=0), 0, "random seed (in a study: the sampler's seed unless given)", flag="--seed"),
    Field(
        "device",
        Satisfies(_device, "auto, cpu, cuda, cuda:N"),
        "auto",
        "where to train; auto: the first GPU if any, else the CPU",
        flag="--device",
    ),
    Field("threads", Integer(), None, "torch CPU threads", optional=True, flag="--threads", shown="torch's default"),
    Field("eval_batch_size", Integer(), 32, "evaluation batch size"),
    Field(
        "max_eval_items",
        Integer(),
        None,
        "evaluate on at most this many items",
        optional=True,
        flag="--max-eval-items",
        shown="all",
    ),
    Field("curve_points", Integer(), 50, "points kept of the training curve"),
    Field("num_workers", Integer(minimum=0), 0, "data loader worker processes", flag="--workers"),
    Field(
        "augment",
        Boolean(),
        False,
        "KWS only: time shift, gain and background noise on training clips",
        flag="--augment",
    ),
    Field("progress", Boolean(), True, "show a progress bar (off in studies: the driver shows progress)"),
)
"""The ``training:`` settings, declared once: checks, defaults, the flags of ``centaurus-nas train`` and the
config reference page read them."""
