"""``MODEL_CARD.md``: what an exported architecture is, how good and how costly it is, how it was trained,
what was exported (and what could not be), and how to load it.

The card is rendered from the same manifest as ``export.json`` (plus the cost report), so the two
never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nas.cost.formatting import human_count, layer_table, totals
from nas.cost.model import CostReport
from nas.export._onnx_model import short_reason
from nas.export._torchscript import one_line
from nas.tasks.registry import get_task

_COST_UNITS = {"train_flops": " FLOP", "contraction_flops": " FLOP", "fft_flops": " FLOP", "elementwise_flops": " FLOP"}


def _value(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if name.endswith("_bytes"):
        from nas.cost.formatting import human_bytes

        return f"{human_bytes(value)} ({value:,.0f})"
    if abs(value) >= 1e4:
        return f"{human_count(value, _COST_UNITS.get(name, '').strip())} ({value:.6g})"
    return f"{value:.6g}"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _objectives(manifest: dict[str, Any]) -> list[str]:
    trial, study = manifest["trial"], manifest["study"]
    rows = [
        (objective["name"], objective["direction"], _value(objective["name"], trial["values"].get(objective["name"])))
        for objective in study["objectives"]
    ]
    lines = ["## Objectives", "", *_table(("objective", "direction", "value"), rows), ""]
    if trial.get("duplicate_of") is not None:
        lines += [f"Values reused from trial {trial['duplicate_of']} (the same architecture).", ""]
    if trial.get("estimated_by"):  # a weight-sharing estimate: not this network's own training
        lines += [
            f"These values are an estimate by the {trial['estimated_by']} (inherited weights, batch norm recalibrated,"
            " validation split), not a stand-alone training; the study's confirmations retrain architectures.",
            "",
        ]
    elif trial.get("confirms") is not None:
        estimate = ", ".join(f"{name} {_value(name, value)}" for name, value in (trial.get("estimate") or {}).items())
        lines += [f"Stand-alone confirmation of estimated trial {trial['confirms']} (its estimate: {estimate}).", ""]
    if trial.get("metrics"):
        split = "the validation split (estimated)" if trial.get("estimated_by") else "the test split"
        metrics = [(name, _value(name, value)) for name, value in trial["metrics"].items()]
        lines += [f"Task metrics on {split}:", "", *_table(("metric", "value"), metrics), ""]
    return lines


def _training(manifest: dict[str, Any]) -> list[str]:
    trial, training, study = manifest["trial"], manifest["training"], manifest["study"]
    lines = ["## Training", ""]
    if manifest["trained"]:
        run = trial.get("training") or {}
        lines.append(
            f"Trained weights from `{trial['weights_source']}`: {run.get('steps', '?')} steps,"
            f" {float(run.get('epochs', 0)):.2f} epochs in {float(run.get('seconds', 0)):.1f} s"
            f" (budget of the run: {run.get('budget', training['budget'])})."
        )
    else:
        lines.append(
            f"**untrained**: {manifest['untrained_reason']}. No weights, TorchScript, ONNX or streaming files."
        )
        lines.append("Retrain it with `centaurus-nas train` (see below).")
    lines += [
        "",
        f"- task: `{study['task']}`",
        f"- dataset: `{study['data']}`",
        f"- seed: {trial.get('seed')}",
        f"- study training budget (full fidelity): `{training['budget']}`",
        "",
        "Training configuration (`nas.tasks.TrainingConfig`):",
        "",
        *_table(("field", "value"), [(name, repr(value)) for name, value in training["config"].items()]),
        "",
    ]
    return lines


def _cost(manifest: dict[str, Any], report: CostReport, inference_plans: list[tuple[str, str]]) -> list[str]:
    cost = manifest["trial"].get("cost") or {}
    lines = [
        "## Cost",
        "",
        f"From the cost model at the study's shape (batch {report.batch}, length {report.length}), with the"
        " contraction plan each SSM layer executes in training (`nas.cost.formatting`):",
        "",
        "```text",
        totals(report),
        "",
        layer_table(report, show_plans=True),
        "```",
        "",
    ]
    if cost:
        rows = [(name, _value(name, value)) for name, value in cost.items()]
        lines += ["Cost fields recorded with the trial:", "", *_table(("field", "value"), rows), ""]
    if inference_plans:
        shape = manifest["export_shape"]
        lines += [
            f"Plans of the exported TorchScript/ONNX graphs (batch {shape['batch']}, length {shape['length']}):",
            "",
            *[f"- `{name}`: `{key}`" for name, key in inference_plans],
            "",
        ]
    return lines


def _artifacts(manifest: dict[str, Any]) -> list[str]:
    lines = ["## Files", ""]
    lines += [f"- `{name}`: {description}" for name, description in manifest["files"].items()]
    lines.append("")
    torchscript, onnx, streaming = manifest.get("torchscript"), manifest.get("onnx"), manifest.get("streaming")
    if torchscript is not None:
        lines += ["### TorchScript", "", *_torchscript(torchscript), ""]
    if onnx is not None:
        lines += ["### ONNX", "", *_onnx(onnx), ""]
    if streaming is not None:
        lines += [
            "### Streaming",
            "",
            f"Chunk lengths must be multiples of the total stride, {streaming['total_stride']} samples"
            f" ({streaming['smallest_chunk_ms']:g} ms at {streaming['sample_rate']} Hz); the chunked outputs then"
            " equal the full-sequence output (up to float32 rounding). Per chunk the stream returns"
            f" {streaming['output_per_chunk']}. Carried state: {streaming['state_bytes_per_stream']:,} bytes per"
            " stream. `streaming.py` is a runnable example; `streaming.json` has the details.",
            "",
        ]
    return lines


def _torchscript(torchscript: dict[str, Any]) -> list[str]:
    if not torchscript["path"]:
        return [f"Not exported: `{one_line(torchscript['error'])}` (the full error is in `export.json`)."]
    exact = "bit-exact" if torchscript["exact"] else f"max |diff| {torchscript['max_abs_diff']:.2g}"
    if torchscript.get("any_batch", True):
        batch = (
            f"any batch size (max |diff| {torchscript['other_batch_max_abs_diff']:.2g} at batch"
            f" {torchscript['batch'] + 1})"
        )
    else:
        batch = f"batch {torchscript['batch']} only ({torchscript['other_batch_error']})"
    return [
        f"`{torchscript['path']}` is a trace of the eval-mode network at input shape (batch,"
        f" {torchscript['channels']}, {torchscript['length']}); it"
        f" takes {batch} and only this length (plans and FFT lengths are chosen per shape in Python, so the"
        " trace records them), on the CPU (the trace records the device of the tensors it creates; on a GPU"
        " use `load_export`). `load_torchscript` checks the input shape first and names what is allowed.",
        f"Checked after reloading against the eager network: {exact} at batch {torchscript['batch']}.",
    ]


def _onnx(onnx: dict[str, Any]) -> list[str]:
    """What the ONNX export did, briefly: one line per exporter that failed (their full errors, with the
    exporters' own file paths and stack traces, stay in ``onnx.txt``)."""
    if onnx.get("skipped"):
        return [f"Skipped: {onnx['skipped']}."]
    shape = f"({onnx['batch']}, {onnx['channels']}, {onnx['length']})"
    failed = [attempt for attempt in onnx["attempts"] if not attempt["ok"]]
    lines = []
    if onnx["path"]:
        used = next(attempt["exporter"] for attempt in onnx["attempts"] if attempt["ok"])
        lines.append(f"`{onnx['path']}` (opset {onnx['opset']}), static input shape {shape}, exported with {used}.")
        if onnx["rewrites"]:
            lines += ["", "Export-time rewrites (exact in exact arithmetic; the eager network is unchanged):", ""]
            lines += [f"- {rewrite}" for rewrite in onnx["rewrites"]]
        lines += ["", f"Check: {onnx['checked']}."]
        probes = onnx.get("probes") or []
        if probes:
            worst = max(probes, key=lambda probe: probe["relative_diff"])
            verdict = "within" if onnx["verified"] else "**OUTSIDE**"
            lines[-1] += (
                f" Worst max |diff| {worst['relative_diff']:.2g} x output scale ({worst['input']}), {verdict} the"
                f" tolerance {onnx['tolerance']:g}; every input's difference is in `onnx.txt`."
            )
    else:
        lines.append(f"Not exported at input shape {shape}: no exporter handled this network.")
    if failed:
        lines += ["", "Exporters that failed (full errors in `onnx.txt`):", ""]
        lines += [f"- {attempt['exporter']}: {short_reason(attempt['error'])}" for attempt in failed]
    return lines


def _usage(manifest: dict[str, Any]) -> list[str]:
    folder = manifest["folder"]
    arch = manifest["architecture"]
    lines = ["## How to load", ""]
    shape = f"(batch, {arch['channels']}, samples)"
    if manifest["trained"]:
        lines += [
            "```python",
            "import torch",
            "from nas.export import load_export, load_labels, load_streaming, load_torchscript",
            "",
            f'model = load_export("{folder}")  # this folder: spec rebuilt, weights.safetensors loaded, eval mode',
            f"audio = torch.zeros(1, {arch['channels']}, {arch['input_length']})  # {shape}, {arch['sample_rate']} Hz",
            "with torch.no_grad():",
            "    output = model(audio)",
        ]
        if manifest.get("labels"):
            what = get_task(manifest["labels"]["task"]).output.decoded
            lines += [f'print(load_labels("{folder}").decode(output))  # {what}, per item of the batch']
        torchscript = manifest.get("torchscript") or {}
        if torchscript.get("path"):
            lines += [
                "",
                f'scripted = load_torchscript("{folder}")  # input length {torchscript["length"]} only'
                + ("" if torchscript.get("any_batch", True) else f", batch {torchscript['batch']}"),
                "output = scripted(audio)",
            ]
        if manifest.get("streaming") is not None:
            stride = manifest["streaming"]["total_stride"]
            lines += [
                "",
                f'stream = load_streaming("{folder}")  # chunks of a multiple of {stride} samples',
                f"for chunk in audio.split({stride * 10}, dim=-1):",
                "    output = stream(chunk)",
                "stream.reset()  # before the next utterance",
            ]
        onnx = manifest.get("onnx") or {}
        if onnx.get("path"):
            lines += [
                "",
                "import onnxruntime",
                f'session = onnxruntime.InferenceSession("{folder}/{onnx["path"]}")',
                f'(output,) = session.run(None, {{"audio": torch.zeros({onnx["batch"]}, {onnx["channels"]},'
                f" {onnx['length']}).numpy()}})",
            ]
        lines += ["```", ""]
    lines += [
        "## Retrain",
        "",
        "```bash",
        f"centaurus-nas train {folder} --budget 3epochs   # the spec of this folder; dataset and training",
        "# configuration from export.json unless --data is given",
        "```",
        "",
    ]
    return lines


def model_card(manifest: dict[str, Any], report: CostReport, inference_plans: list[tuple[str, str]]) -> str:
    """The Markdown card of one exported trial (``manifest`` is the content of its ``export.json``)."""
    arch, study, trial = manifest["architecture"], manifest["study"], manifest["trial"]
    lines = [
        f"# {arch['summary']}",
        "",
        f"Trial {trial['number']} of study `{study['name']}` ({study['task']}), architecture id `{arch['id']}`,"
        f" exported {manifest['exported_at']} by centaurus-nas.",
        "",
        f"- input: {arch['channels']} channel(s) at {arch['sample_rate']} Hz, nominal length {arch['input_length']}"
        f" samples; total stride {arch['total_stride']}",
        f"- study storage: `{study['storage']}`",
        f"- selected as: {', '.join(manifest['selected_by'])}",
        "",
    ]
    lines += _objectives(manifest)
    lines += _training(manifest)
    lines += _cost(manifest, report, inference_plans)
    lines += _artifacts(manifest)
    lines += _usage(manifest)
    return "\n".join(lines)
