"""``centaurus-nas export STUDY (--pareto | --trial N [N ...] | --best OBJECTIVE) --out DIR``."""

from __future__ import annotations

import argparse

from optuna.trial import FrozenTrial
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from nas.console import make_console
from nas.export._exporter import ExportedTrial, ExportOptions, export_study


def _describe(console: Console, item: ExportedTrial) -> None:
    lines = [f"trial {item.number} ({item.summary}) -> {item.folder}", f"  selected as: {'; '.join(item.selected_by)}"]
    if not item.trained:
        lines.append(f"  {item.notes[0]}: wrote the spec and the card only")
    else:
        lines.append("  weights: weights.safetensors")
        for label, line in (("TorchScript", item.torchscript), ("ONNX", item.onnx), ("streaming", item.streaming)):
            if line is not None:
                lines.append(f"  {label}: {line}")
        # what did not export, even when a later exporter succeeded: one line each (full errors in onnx.txt)
        lines += [f"  ONNX fallback: {failure} (full error in onnx.txt)" for failure in item.onnx_failures]
    for line in lines:
        console.print(line, markup=False, highlight=False)


def _export_command(args: argparse.Namespace) -> int:
    console = make_console()  # long paths and errors stay on one line in a log
    options = ExportOptions(
        torchscript=not args.no_torchscript,
        onnx=not args.no_onnx,
        streaming=not args.no_streaming,
        batch=args.batch,
        length=args.length,
    )
    objectives = [name.strip() for name in args.objectives.split(",")] if args.objectives else None
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=args.quiet) as progress:
        task = progress.add_task("opening the study", total=None)

        def on_trial(index: int, count: int, trial: FrozenTrial) -> None:
            progress.update(task, description=f"exporting trial {trial.number} ({index + 1}/{count})")

        summary = export_study(
            args.study,
            args.out,
            pareto=args.pareto,
            trials=args.trial,
            best=args.best,
            objectives=objectives,
            options=options,
            on_trial=on_trial,
        )
    for item in summary.trials:
        _describe(console, item)
    console.print(
        f"exported {len(summary.trials)} trial(s) of study {summary.study} to {summary.out};"
        f" wrote {summary.index} and {summary.index_markdown}",
        markup=False,
        highlight=False,
    )
    for line in summary.failed:
        console.print(f"export problem: {line}", markup=False, highlight=False, style="red")
    return 1 if summary.failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="export a study's winning architectures: spec, weights, TorchScript, ONNX, streaming, model card",
        description="Write DIR/trial-<N>-<id>/ per selected trial (spec, weights.safetensors, model.torchscript.pt,"
        " model.onnx or onnx.txt, streaming.py/json, MODEL_CARD.md, export.json) and DIR/index.json.",
    )
    export.add_argument("study", help="a study config, its output folder, or STORAGE_URL#STUDY_NAME")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--pareto", action="store_true", help="every trial on the Pareto front")
    which.add_argument("--trial", type=int, nargs="+", metavar="N", help="these trial numbers (complete trials)")
    which.add_argument("--best", metavar="OBJECTIVE", help="the best complete trial by this objective")
    export.add_argument("--out", required=True, help="output folder (created; earlier exports in it are kept)")
    export.add_argument("--objectives", help="with --pareto: the front over this comma-separated subset")
    export.add_argument("--length", type=int, help="input samples of the TorchScript/ONNX graphs (default: the spec's)")
    export.add_argument("--batch", type=int, default=1, help="batch size of the ONNX graph and the traced example")
    export.add_argument("--no-torchscript", action="store_true", help="skip the TorchScript module")
    export.add_argument("--no-onnx", action="store_true", help="skip the ONNX model")
    export.add_argument("--no-streaming", action="store_true", help="skip the streaming files")
    export.add_argument("--quiet", action="store_true", help="no progress display")
    export.set_defaults(handler=_export_command)
