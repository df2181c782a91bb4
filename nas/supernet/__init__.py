"""Weight-sharing training and estimation: :func:`train_supernet` and :func:`estimate`.

The supernet itself (paths, extraction, batch-norm calibration) lives in :mod:`centaurus.supernet`; this
package trains it with ordinary training's data, losses, budgets and optimiser, checkpoints it, and
scores architectures on it.
"""

from nas.supernet._checkpoint import (
    SupernetCheckpointError,
    check_checkpoint_space,
    load_supernet,
    package_version,
    read_supernet_checkpoint,
    save_supernet_checkpoint,
)
from nas.supernet._train import (
    BatchReference,
    SandwichSettings,
    SupernetTraining,
    batch_reference,
    distillation_loss,
    train_supernet,
)
from nas.supernet.estimate import DEFAULT_CALIBRATION_BATCHES, estimate, validation_split

__all__ = [
    "DEFAULT_CALIBRATION_BATCHES",
    "BatchReference",
    "SandwichSettings",
    "SupernetCheckpointError",
    "SupernetTraining",
    "batch_reference",
    "check_checkpoint_space",
    "distillation_loss",
    "estimate",
    "load_supernet",
    "package_version",
    "read_supernet_checkpoint",
    "save_supernet_checkpoint",
    "train_supernet",
    "validation_split",
]
