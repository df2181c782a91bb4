"""Export trials of a study: one self-contained folder per architecture, and an index of what was exported.

``DIR/trial-<N>-<arch_id[:8]>/`` holds the spec (YAML and JSON), the map from outputs to words or
characters (``labels.json``, kws and asr), the trained weights (``weights.safetensors``), a TorchScript
trace, an ONNX model (or ``onnx.txt`` saying exactly why not), a streaming example with its rules,
``export.json`` (everything machine-readable: provenance, training configuration, objectives, what
each exporter did) and ``MODEL_CARD.md``. Every file gets the process's default mode (umask). ``DIR/index.json``
and ``DIR/INDEX.md`` list every folder in ``DIR``; exporting again into the same ``DIR`` adds to them.

A trial whose weights were not kept (``keep_weights: false``, a cost-only study) is exported as its
spec and card, marked untrained. Each folder is written under a temporary name and renamed when
complete, so an interrupted export never leaves a half-written folder behind a valid name.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.trial import FrozenTrial
from torch import nn

from centaurus.networks import build
from nas.cost import COST_OBJECTIVES, score
from nas.export._card import model_card
from nas.export._errors import ExportError
from nas.export._labels import LABELS, task_labels, write_labels
from nas.export._onnx_model import export_onnx
from nas.export._selection import best_trial, numbered_trials, pareto_trials
from nas.export._streaming import STREAMING_EXAMPLE, streaming_info
from nas.export._torchscript import export_torchscript
from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.storage import find_config, load_existing_study
from nas.tasks.registry import get_task
from search_spaces import Architecture

FORMAT = "centaurus-nas-export"
VERSION = 1
MANIFEST = "export.json"
INDEX = "index.json"
SPEC_YAML, SPEC_JSON = "architecture.yaml", "architecture.json"
WEIGHTS = "weights.safetensors"
TORCHSCRIPT = "model.torchscript.pt"
ONNX, ONNX_REPORT = "model.onnx", "onnx.txt"
STREAMING_PY, STREAMING_JSON = "streaming.py", "streaming.json"
CARD = "MODEL_CARD.md"


@dataclass(frozen=True)
class ExportOptions:
    """What to export besides the spec, weights and card, and at which static shape the graphs are traced.

    ``length`` defaults to each spec's input length; it must be a multiple of the total stride.
    """

    torchscript: bool = True
    onnx: bool = True
    streaming: bool = True
    batch: int = 1
    length: int | None = None

    def __post_init__(self) -> None:
        for name in ("batch", "length"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ExportError(f"--{name}: got {value!r}; allowed: a positive integer")


@dataclass(frozen=True)
class ExportedTrial:
    """One exported folder: which trial, where, and what went into it (``notes`` explain what did not)."""

    study: str
    number: int
    arch_id: str
    summary: str
    folder: Path
    trained: bool
    files: dict[str, str]
    values: dict[str, float]
    selected_by: tuple[str, ...]
    torchscript: str | None = None
    onnx: str | None = None
    streaming: str | None = None
    onnx_failures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def index_entry(self) -> dict[str, Any]:
        return {
            "folder": self.folder.name,
            "study": self.study,
            "trial": self.number,
            "arch_id": self.arch_id,
            "summary": self.summary,
            "selected_by": list(self.selected_by),
            "values": self.values,
            "trained": self.trained,
            "files": sorted(self.files),
            "torchscript": self.torchscript,
            "onnx": self.onnx,
            "onnx_failures": list(self.onnx_failures),
            "streaming": self.streaming,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ExportSummary:
    """What one export call wrote."""

    out: Path
    study: str
    trials: tuple[ExportedTrial, ...]
    index: Path
    index_markdown: Path
    failed: tuple[str, ...] = field(default=())


def open_study(reference: str | Path) -> tuple[optuna.Study, StudyConfig]:
    """The study behind a config file, an output folder or ``URL#NAME`` (as for ``status``/``pareto``)."""
    config = find_config(reference)
    try:
        study = load_existing_study(config)
    except StudyConfigError as error:
        raise ExportError(
            f"study: got {str(reference)!r}, whose study {config.name!r} is not in {config.storage_url} (not run yet?);"
            " allowed: a study that has been searched"
        ) from error
    return study, config


def _build(arch: Architecture) -> nn.Module:
    """The network of ``arch`` without disturbing the caller's random state (its initial weights are overwritten)."""
    with torch.random.fork_rng(devices=[]):
        return build(arch)


def _weights_source(trial: FrozenTrial, config: StudyConfig) -> tuple[Path | None, str | None]:
    """The trained ``state_dict`` file of ``trial``, or why there is none.

    The study folder's own file comes first (the folder the config names, then the one it was read
    from), the recorded path last: a copied or moved study folder exports its own weights, not those of
    the folder it was copied from.
    """
    recorded = trial.user_attrs.get(attrs.WEIGHTS)
    if recorded:
        name = Path(recorded).name
        candidates = [config.output_dir / "weights" / name, Path(recorded)]
        if config.source is not None:
            candidates.insert(1, config.source.parent / "weights" / name)
        for candidate in candidates:
            if candidate.is_file():
                return candidate, None
        return None, f"its weights were recorded at {recorded}, but that file is missing"
    if all(name in COST_OBJECTIVES for name in config.objective_names):
        return None, "the study scores architectures with the cost model only and never trained them"
    if not config.keep_weights:
        return None, "the study ran with keep_weights: false, so the trained weights were not saved"
    return None, "no trained weights were recorded for this trial"


def _save_weights(state: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write the state as safetensors through an ordinary file, so it gets the same mode as the other files
    (``safetensors.torch.save_file`` writes through a private temporary file: mode 0600 whatever the umask)."""
    from safetensors.torch import save

    path.write_bytes(save({name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}, metadata))


def _inference_plans(arch: Architecture, batch: int, length: int) -> list[tuple[str, str]]:
    report = score(arch, batch, length)
    return [(row.name, row.plan.key) for row in report.layers if row.plan is not None]


def _manifest(
    trial: FrozenTrial, config: StudyConfig, arch: Architecture, folder: Path, selected_by: Sequence[str]
) -> dict[str, Any]:
    user = trial.user_attrs
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "folder": folder.name,
        "selected_by": list(selected_by),
        "study": {
            "name": config.name,
            "task": config.task,
            "storage": config.storage_url,
            "data": str(config.data),
            "objectives": [{"name": o.name, "direction": o.direction} for o in config.objectives],
            "cost": {"batch": config.cost.batch, "length": config.cost.length, "optimizer": config.cost.optimizer},
        },
        "trial": {
            "number": trial.number,
            "values": dict(zip(config.objective_names, trial.values or [], strict=False)),
            "metrics": user.get(attrs.METRICS, {}),
            "cost": user.get(attrs.COST, {}),
            "seed": user.get(attrs.SEED, config.training.seed),
            "training": user.get(attrs.TRAINING),
            "duplicate_of": user.get(attrs.DUPLICATE_OF),
            "estimated_by": user.get(attrs.ESTIMATED_BY),
            "confirms": user.get(attrs.CONFIRMS),
            "estimate": user.get(attrs.ESTIMATE),
            "weights_source": None,
        },
        "training": {"config": config.training.to_dict(), "budget": str(config.training_budget)},
        "architecture": {
            "id": arch.id,
            "summary": arch.summary(),
            "task": arch.task,
            "channels": arch.input.channels,
            "sample_rate": arch.input.sample_rate,
            "input_length": arch.input.length,
            "total_stride": arch.total_stride,
        },
        "trained": False,
        "untrained_reason": None,
        "files": {SPEC_YAML: "the architecture spec (search_spaces.Architecture)", SPEC_JSON: "the same spec as JSON"},
        "export_shape": None,
        "labels": None,
        "torchscript": None,
        "onnx": None,
        "streaming": None,
    }


def export_trial(
    trial: FrozenTrial,
    config: StudyConfig,
    out: str | Path,
    *,
    options: ExportOptions | None = None,
    selected_by: Sequence[str] = ("trial",),
) -> ExportedTrial:
    """Write ``out/trial-<N>-<arch_id[:8]>/`` for one complete trial (replacing an earlier export of it)."""
    options = options or ExportOptions()
    if attrs.ARCH not in trial.user_attrs:
        raise ExportError(f"--trial: trial {trial.number} has no architecture recorded; allowed: a complete trial")
    arch = Architecture.from_dict(trial.user_attrs[attrs.ARCH])
    length = options.length or arch.input.length
    if length % arch.total_stride:
        raise ExportError(
            f"--length: got {length}, not a multiple of the total stride {arch.total_stride} of trial {trial.number}"
            f" ({arch.summary()}); allowed: a multiple of {arch.total_stride}"
        )
    out = Path(out)
    target = out / f"trial-{trial.number}-{arch.id[:8]}"
    staging = out / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        exported = _write(trial, config, arch, staging, target, options, length, selected_by)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return exported


@dataclass
class _Record:
    """What the artifact writers of one trial accumulate: its manifest, the lines the command prints, problems."""

    manifest: dict[str, Any]
    lines: dict[str, str] = field(default_factory=dict)
    onnx_failures: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def files(self) -> dict[str, str]:
        return self.manifest["files"]


def _write_torchscript(record: _Record, network: nn.Module, staging: Path, shape: dict[str, int], number: int) -> None:
    outcome = export_torchscript(network, staging / TORCHSCRIPT, **shape)
    record.manifest["torchscript"] = outcome.to_dict()
    if not outcome.ok:
        record.lines["torchscript"] = f"FAILED: {outcome.short_error} (full error in export.json)"
        record.failed.append(f"trial {number}: TorchScript: {outcome.short_error}")
        return
    batch = "any batch" if outcome.any_batch else f"batch {shape['batch']} only"
    record.files[TORCHSCRIPT] = f"TorchScript trace (CPU), input ({batch}, {shape['channels']}, {shape['length']})"
    exact = "bit-exact" if outcome.exact else f"max |diff| {outcome.max_abs_diff:.2g}"
    record.lines["torchscript"] = f"{TORCHSCRIPT} (input length {shape['length']}, {batch}; {exact} vs eager)"


def _write_onnx(
    record: _Record, network: nn.Module, staging: Path, shape: dict[str, int], number: int, arch: Architecture
) -> None:
    onnx = export_onnx(
        network,
        staging / ONNX,
        output=get_task(arch.task).output.onnx_name,
        sample_rate=arch.input.sample_rate,
        **shape,
    )
    record.manifest["onnx"] = onnx.to_dict()
    (staging / ONNX_REPORT).write_text(onnx.report(), encoding="utf-8")
    record.files[ONNX_REPORT] = "what the ONNX exporters did, with their exact errors"
    if onnx.ok:
        record.files[ONNX] = f"ONNX model, static input ({shape['batch']}, {shape['channels']}, {shape['length']})"
        record.files.update({name: "external data of model.onnx" for name in onnx.extra_files})
    if onnx.ok and onnx.max_abs_diff is not None and not onnx.verified:
        record.failed.append(f"trial {number}: ONNX: {onnx.check_summary()}")
    elif not onnx.ok and not onnx.skipped:
        record.failed.append(f"trial {number}: ONNX: {onnx.headline()}")
    record.lines["onnx"] = onnx.headline()
    record.onnx_failures = onnx.failures()


def _write_streaming(record: _Record, network: nn.Module, staging: Path, arch: Architecture) -> None:
    info = streaming_info(network, arch.task, arch.input.sample_rate)
    record.manifest["streaming"] = info
    (staging / STREAMING_JSON).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (staging / STREAMING_PY).write_text(STREAMING_EXAMPLE, encoding="utf-8")
    record.files[STREAMING_JSON] = "streaming rules: chunk multiple, latency, outputs, carried state"
    record.files[STREAMING_PY] = "runnable example: python streaming.py input.wav"
    record.lines["streaming"] = (
        f"chunks of a multiple of {info['total_stride']} samples ({info['smallest_chunk_ms']:g} ms)"
    )


def _write(
    trial: FrozenTrial,
    config: StudyConfig,
    arch: Architecture,
    staging: Path,
    target: Path,
    options: ExportOptions,
    length: int,
    selected_by: Sequence[str],
) -> ExportedTrial:
    record = _Record(_manifest(trial, config, arch, target, selected_by))
    manifest = record.manifest
    arch.save(staging / SPEC_YAML)
    arch.save(staging / SPEC_JSON)
    labels = task_labels(arch.task, arch.output.size)
    if labels is not None:
        write_labels(labels, staging)
        manifest["labels"] = labels.to_dict()
        output = get_task(arch.task).output
        meaning = output.label + (" (0: the CTC blank)" if output.decoding == "ctc" else "")
        record.files[LABELS] = f"output index -> {meaning}, and how to decode the logits (nas.export.load_labels)"
    source, reason = _weights_source(trial, config)
    inference_plans: list[tuple[str, str]] = []
    if source is None:
        manifest["untrained_reason"] = reason
    else:
        network = _build(arch)
        network.load_state_dict(torch.load(source, map_location="cpu", weights_only=True))
        network.eval()
        manifest["trained"] = True
        manifest["trial"]["weights_source"] = str(source)
        metadata = {"format": "pt", "arch_id": arch.id, "study": config.name, "trial": str(trial.number)}
        _save_weights(network.state_dict(), staging / WEIGHTS, metadata)
        record.files[WEIGHTS] = "the trained state_dict (safetensors), loaded by nas.export.load_export"
        shape = {"batch": options.batch, "channels": arch.input.channels, "length": length}
        manifest["export_shape"] = shape
        if options.torchscript or options.onnx:
            inference_plans = _inference_plans(arch, options.batch, length)
        if options.torchscript:
            _write_torchscript(record, network, staging, shape, trial.number)
        if options.onnx:
            _write_onnx(record, network, staging, shape, trial.number, arch)
        if options.streaming:
            _write_streaming(record, network, staging, arch)
    record.files[MANIFEST] = "everything above as JSON: provenance, training configuration, objectives, exporters"
    record.files[CARD] = "this model card"
    report = score(arch, config.cost.batch, config.cost.length, optimizer=config.cost.optimizer)  # type: ignore[arg-type]
    (staging / CARD).write_text(model_card(manifest, report, inference_plans), encoding="utf-8")
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ExportedTrial(
        study=config.name,
        number=trial.number,
        arch_id=arch.id,
        summary=arch.summary(),
        folder=target,
        trained=manifest["trained"],
        files=dict(record.files),
        values=manifest["trial"]["values"],
        selected_by=tuple(selected_by),
        torchscript=record.lines.get("torchscript"),
        onnx=record.lines.get("onnx"),
        streaming=record.lines.get("streaming"),
        onnx_failures=tuple(record.onnx_failures),
        notes=() if reason is None else (f"untrained: {reason}",),
        failed=tuple(record.failed),
    )


def select(
    study: optuna.Study,
    config: StudyConfig,
    *,
    pareto: bool = False,
    trials: Sequence[int] | None = None,
    best: str | None = None,
    objectives: list[str] | None = None,
) -> list[tuple[FrozenTrial, str]]:
    """The trials to export and why each was chosen; exactly one of ``pareto``, ``trials`` and ``best``."""
    chosen = [pareto, bool(trials), best is not None]
    if sum(chosen) != 1:
        raise ExportError(
            "selection: got none or several; allowed: exactly one of --pareto, --trial N, --best OBJECTIVE"
        )
    if objectives and not pareto:
        raise ExportError("--objectives: given without --pareto; allowed: only with --pareto")
    if pareto:
        over = ", ".join(objectives or config.objective_names)
        return [(trial, f"Pareto front over {over}") for trial in pareto_trials(study, config, objectives)]
    if trials:
        return [(trial, f"trial {trial.number}") for trial in numbered_trials(study, config, trials)]
    assert best is not None
    direction = config.directions[config.objective_names.index(best)] if best in config.objective_names else ""
    return [(best_trial(study, config, best), f"best {best} ({direction})")]


def export_study(
    reference: str | Path,
    out: str | Path,
    *,
    pareto: bool = False,
    trials: Sequence[int] | None = None,
    best: str | None = None,
    objectives: list[str] | None = None,
    options: ExportOptions | None = None,
    on_trial: Callable[[int, int, FrozenTrial], None] | None = None,
) -> ExportSummary:
    """Export the selected trials of a study into ``out`` and update its index (see the module docstring).

    ``on_trial(index, count, trial)`` is called before each trial is exported (progress display).
    """
    study, config = open_study(reference)
    selected = select(study, config, pareto=pareto, trials=trials, best=best, objectives=objectives)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedTrial] = []
    for index, (trial, why) in enumerate(selected):
        if on_trial is not None:
            on_trial(index, len(selected), trial)
        exported.append(export_trial(trial, config, out, options=options, selected_by=(why,)))
    index_path, markdown_path = write_index(out, config, exported)
    failed = tuple(line for item in exported for line in item.failed)
    return ExportSummary(out, config.name, tuple(exported), index_path, markdown_path, failed)


def write_index(out: Path, config: StudyConfig, exported: Sequence[ExportedTrial]) -> tuple[Path, Path]:
    """Merge ``exported`` into ``out/index.json`` (by folder; entries whose folder is gone are dropped) and
    rewrite ``out/INDEX.md``."""
    path = out / INDEX
    entries: dict[str, dict[str, Any]] = {}
    storages: dict[str, str] = {}
    if path.is_file():
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous.get("format") == FORMAT:
            storages = dict(previous.get("studies", {}))
            for entry in previous.get("exports", []):
                if (out / entry["folder"]).is_dir():
                    entries[entry["folder"]] = entry
    storages[config.name] = config.storage_url
    for item in exported:
        entry = item.index_entry()
        if item.folder.name in entries:  # exported again: remember every reason it was selected
            earlier = entries[item.folder.name]["selected_by"]
            entry["selected_by"] = [*earlier, *(why for why in entry["selected_by"] if why not in earlier)]
        entries[item.folder.name] = entry
    ordered = sorted(entries.values(), key=lambda entry: (entry["study"], entry["trial"]))
    index = {"format": FORMAT, "version": VERSION, "studies": storages, "exports": ordered}
    path.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    markdown = out / "INDEX.md"
    markdown.write_text(_index_markdown(index), encoding="utf-8")
    return path, markdown


def _index_markdown(index: dict[str, Any]) -> str:
    lines = [
        f"# Exported architectures ({', '.join(index['studies'])})",
        "",
        "| folder | study | trial | architecture | selected by | objectives | trained | TorchScript | ONNX |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in index["exports"]:
        values = ", ".join(f"{name} {value:.4g}" for name, value in entry["values"].items())
        cells = [
            f"[{entry['folder']}]({entry['folder']}/MODEL_CARD.md)",
            entry["study"],
            str(entry["trial"]),
            entry["summary"],
            "; ".join(entry["selected_by"]),
            values,
            "yes" if entry["trained"] else "untrained",
            "yes" if entry["torchscript"] and not entry["torchscript"].startswith("FAILED") else "no",
            "yes" if entry["onnx"] and entry["onnx"].startswith("exported") else "no",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join([*lines, ""])
