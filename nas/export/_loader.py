"""Loading an export: the rebuilt network, the TorchScript module, the streaming wrapper, the manifest.

``path`` is one exported trial's folder (``trial-<N>-<id>``, holding ``export.json``) or an export
folder holding exactly one trial. The rebuilt network is ``centaurus.networks.build(spec)`` with
``weights.safetensors`` loaded, in eval mode: its outputs equal the trained network's bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from centaurus.networks import build
from nas.export._errors import ExportError
from nas.export._exporter import FORMAT, INDEX, MANIFEST, SPEC_JSON, SPEC_YAML, TORCHSCRIPT, WEIGHTS
from nas.export._labels import OutputLabels, read_labels
from nas.export._streaming import StreamingModel
from nas.export._torchscript import TorchScriptModel, load_script
from search_spaces import Architecture

_ALLOWED = "an exported trial's folder (holding export.json) or an export folder holding exactly one trial"


def trial_folder(path: str | Path) -> Path:
    """The exported trial folder ``path`` names (itself, or the only trial of an export folder)."""
    folder = Path(path)
    if (folder / MANIFEST).is_file():
        return folder
    if (folder / INDEX).is_file():
        exports = _index_folders(folder)
        if len(exports) == 1:
            return folder / exports[0]
        listed = ", ".join(exports) if exports else "none"
        raise ExportError(
            f"export: got {str(folder)!r}, which holds {len(exports)} trial(s) ({listed}); allowed: one of them"
        )
    raise ExportError(f"export: got {str(folder)!r}; allowed: {_ALLOWED}")


def _index_folders(folder: Path) -> list[str]:
    index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    return [entry["folder"] for entry in index.get("exports", []) if (folder / entry["folder"] / MANIFEST).is_file()]


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The content of an exported trial's ``export.json``."""
    folder = trial_folder(path)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ExportError(f"export: {folder / MANIFEST} is not a centaurus-nas export manifest; allowed: {_ALLOWED}")
    return manifest


def load_architecture(path: str | Path) -> Architecture:
    """The spec of an exported trial (JSON preferred: it is what the id was computed from)."""
    folder = trial_folder(path)
    spec = folder / SPEC_JSON if (folder / SPEC_JSON).is_file() else folder / SPEC_YAML
    return Architecture.load(spec)


def load_export(path: str | Path, *, device: str | torch.device = "cpu") -> nn.Module:
    """The trained network of an export: rebuilt from its spec, ``weights.safetensors`` loaded, in eval mode."""
    from safetensors.torch import load_file

    folder = trial_folder(path)
    weights = folder / WEIGHTS
    if not weights.is_file():
        reason = read_manifest(folder).get("untrained_reason") or "weights.safetensors is missing"
        raise ExportError(
            f"export: {str(folder)!r} has no trained weights ({reason}); allowed: a trained export"
            " (retrain the spec with `centaurus-nas train`)"
        )
    arch = load_architecture(folder)
    with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten: keep the caller's RNG as it was
        network = build(arch)
    network.load_state_dict(load_file(str(weights), device="cpu"))
    return network.to(device).eval()


def load_labels(path: str | Path) -> OutputLabels:
    """What the exported network's outputs mean: ``labels.decode(logits)`` gives words (kws) or text (asr)."""
    return read_labels(trial_folder(path))


def load_torchscript(path: str | Path) -> TorchScriptModel:
    """The exported TorchScript module: a CPU trace at one input length (see the model card), wrapped so that
    an input of another shape is a one-line :class:`ExportError` (the ScriptModule is its ``script``).

    The trace records the device of the tensors it creates (e.g. the kernel's time axis), so it runs on
    the CPU; on a GPU use :func:`load_export` with ``device="cuda"``.
    """
    folder = trial_folder(path)
    file = folder / TORCHSCRIPT
    if not file.is_file():
        torchscript = read_manifest(folder).get("torchscript") or {}
        why = torchscript.get("error") or "it was not exported (untrained, or exported with --no-torchscript)"
        raise ExportError(f"export: {str(folder)!r} has no {TORCHSCRIPT}: {why}; allowed: an export with TorchScript")
    return TorchScriptModel(load_script(file))


def load_streaming(path: str | Path, *, batch: int = 1, device: str | torch.device = "cpu") -> StreamingModel:
    """A :class:`StreamingModel` over the exported network for ``batch`` parallel streams (chunks of another
    batch size are refused with a message naming ``batch=``)."""
    network = load_export(path, device=device)
    arch = load_architecture(path)
    return StreamingModel(network, arch.task, batch, channels=arch.input.channels)
