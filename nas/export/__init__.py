"""Export of winning architectures: spec, trained weights, TorchScript, ONNX, streaming module and model card.

``export_study("runs/kws-quick", "exports", pareto=True)`` (or ``centaurus-nas export``) writes one
folder per trial; :func:`load_export`, :func:`load_torchscript`, :func:`load_streaming` and
:func:`load_labels` read them back, and :func:`resolve_source` lets ``centaurus-nas train`` retrain an
export at a full budget.
"""

from nas.export._errors import ExportError
from nas.export._exporter import (
    ExportedTrial,
    ExportOptions,
    ExportSummary,
    export_study,
    export_trial,
    open_study,
    select,
    write_index,
)
from nas.export._labels import OutputLabels
from nas.export._loader import (
    load_architecture,
    load_export,
    load_labels,
    load_streaming,
    load_torchscript,
    read_manifest,
    trial_folder,
)
from nas.export._onnx_model import OnnxAttempt, OnnxOutcome, export_onnx
from nas.export._resolve import TrainingSource, resolve_architecture, resolve_source
from nas.export._selection import best_trial, number_ranges, numbered_trials, pareto_trials
from nas.export._streaming import StreamingModel, streaming_info
from nas.export._torchscript import TorchScriptModel, TorchScriptOutcome, export_torchscript

__all__ = [
    "ExportError",
    "ExportOptions",
    "ExportSummary",
    "ExportedTrial",
    "OnnxAttempt",
    "OnnxOutcome",
    "OutputLabels",
    "StreamingModel",
    "TorchScriptModel",
    "TorchScriptOutcome",
    "TrainingSource",
    "best_trial",
    "export_onnx",
    "export_study",
    "export_torchscript",
    "export_trial",
    "load_architecture",
    "load_export",
    "load_labels",
    "load_streaming",
    "load_torchscript",
    "number_ranges",
    "numbered_trials",
    "open_study",
    "pareto_trials",
    "read_manifest",
    "resolve_architecture",
    "resolve_source",
    "select",
    "streaming_info",
    "trial_folder",
    "write_index",
]
