"""From what a user passes to ``centaurus-nas train`` to the architecture, dataset and training settings.

``train`` accepts a spec file, an exported trial's folder, or an export folder holding one trial.
An export also records its study's dataset and training configuration, so a retrain needs only a
budget: when ``--data`` is omitted, :meth:`TrainingSource.resolve` takes the dataset and every
hyperparameter the command line left at its default from the export. Settings that describe the
machine (device, threads, data workers, progress display) always come from the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from nas.export._errors import ExportError
from nas.export._exporter import INDEX, MANIFEST, SPEC_JSON, SPEC_YAML
from nas.export._loader import load_architecture, read_manifest
from nas.tasks import TrainingConfig
from search_spaces import Architecture

_SPEC_SUFFIXES = (".yaml", ".yml", ".json")
_MACHINE_FIELDS = frozenset({"device", "threads", "num_workers", "progress", "max_eval_items"})
_ALLOWED = (
    "an architecture spec (.yaml, .yml, .json), an exported trial's folder, or an export folder holding one trial"
)


def resolve_architecture(path: str | Path) -> Architecture:
    """The architecture a spec file or an export folder describes (see the module docstring)."""
    return resolve_source(path).architecture


@dataclass(frozen=True)
class TrainingSource:
    """What ``train`` reads from its ARCH argument: the spec and, for an export, the study's data and training."""

    architecture: Architecture
    export: Path | None = None
    data: Path | None = None
    training: TrainingConfig | None = None
    budget: str | None = None
    """The study's full-fidelity training budget (for information: ``--budget`` sets the retraining budget)."""

    def resolve(self, data: str | Path | None, config: TrainingConfig) -> tuple[Path, TrainingConfig]:
        """The dataset and training configuration to use.

        With ``data`` (``--data`` given), both are the command line's. Without it, the export's dataset,
        and its training configuration except where ``config`` differs from :class:`TrainingConfig`'s
        defaults (a value typed on the command line) and for the machine settings.
        """
        if data is not None:
            return Path(data), config
        if self.data is None:
            raise ExportError(
                "--data: missing; allowed: a dataset folder (it may be omitted only when ARCH is an export, which"
                " records its study's dataset)"
            )
        if not self.data.exists():
            raise ExportError(
                f"--data: missing, and the export's dataset {str(self.data)!r} does not exist here; allowed: pass"
                " --data with the dataset folder"
            )
        if self.training is None:
            return self.data, config
        default = TrainingConfig()
        merged = {}
        for item in fields(TrainingConfig):
            typed = getattr(config, item.name)
            if item.name in _MACHINE_FIELDS or typed != getattr(default, item.name):
                merged[item.name] = typed
        return self.data, replace(self.training, **merged)


def resolve_source(path: str | Path) -> TrainingSource:
    """Read ARCH: a spec file, an exported trial's folder, or an export folder with exactly one trial."""
    given = Path(path)
    if given.is_file():
        if given.suffix.lower() not in _SPEC_SUFFIXES:
            raise ExportError(f"arch: got {str(given)!r}; allowed: {_ALLOWED}")
        return TrainingSource(Architecture.load(given))
    if not given.is_dir():
        raise ExportError(f"arch: got {str(given)!r}, which does not exist; allowed: {_ALLOWED}")
    if (given / MANIFEST).is_file() or (given / INDEX).is_file():
        manifest = read_manifest(given)
        training = manifest.get("training") or {}
        config = TrainingConfig.from_dict(training["config"]) if training.get("config") else None
        data = manifest.get("study", {}).get("data")
        return TrainingSource(
            load_architecture(given),
            export=given,
            data=Path(data) if data else None,
            training=config,
            budget=training.get("budget"),
        )
    for name in (SPEC_YAML, SPEC_JSON):  # e.g. a `train` output folder: a spec and results, no manifest
        if (given / name).is_file():
            return TrainingSource(Architecture.load(given / name))
    raise ExportError(f"arch: got {str(given)!r}, a folder with no spec or export manifest; allowed: {_ALLOWED}")
