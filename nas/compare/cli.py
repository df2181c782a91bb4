"""``centaurus-nas compare CONFIG``: run a study config's space against its homogeneous variants.

Runs the studies one after another (each on all the cluster's workers; rerunning continues
unfinished ones and skips finished ones), then writes into ``--out``: ``trials.csv`` (every
completed trial), ``studies.csv`` (per space and seed), ``spaces.csv`` (per space over seeds),
``fronts.html``/``fronts.png`` and ``summary.md`` with the verdict. ``--analyse-only`` redoes the
tables and figures from the stored studies without training anything.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
from rich.console import Console

from centaurus.modes import MODES
from nas.compare._analysis import ComparisonResult, analyse
from nas.compare._figures import comparison_figure, write_figure
from nas.compare._variants import Variant, comparison_variants
from nas.console import configure_logging, make_console
from nas.report.build import write_tables
from nas.study.arguments import trial_count
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.progress import SearchProgress
from nas.study.quantities import parse_quantity
from nas.study.run import run_study
from nas.study.stopping import INTERRUPTED_EXIT, StopOnInterrupt


def _integers(text: str, option: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise StudyConfigError(f"{option}: got {text!r}; allowed: comma-separated integers, e.g. 0,1,2") from None


def _caps(text: str | None) -> list[float] | None:
    if text is None:
        return None
    caps = [parse_quantity(part.strip()) for part in text.split(",") if part.strip()]
    if not caps or any(cap is None or cap <= 0 for cap in caps):
        raise StudyConfigError(
            f"compare --caps: got {text!r}; allowed: comma-separated positive amounts, e.g. 2G,5G,20G"
        )
    return [float(cap) for cap in caps if cap is not None]


def run_variants(variants: list[Variant], *, quiet: bool, address: str | None, console: Console) -> bool:
    """Run every variant's study in turn; False when Ctrl-C stopped one (the later ones are not started)."""
    for index, variant in enumerate(variants, start=1):
        config = replace(variant.config, ray_address=address) if address else variant.config
        console.print(f"[{index}/{len(variants)}] {config.name}", markup=False)
        with StopOnInterrupt() as stop, SearchProgress(enabled=not quiet, console=console) as progress:
            outcome = run_study(config, progress=progress, stop=stop)
        write_tables(outcome.study, config)
        if outcome.stopped_by_user:
            console.print(
                f"interrupted: {config.name} stopped, {outcome.marked_interrupted} running trial(s) marked"
                " interrupted; run the same compare command again to continue (finished studies are kept)",
                markup=False,
            )
            return False
        console.print(
            f"  {outcome.complete} complete, {outcome.pruned} pruned, {outcome.failed} failed"
            f" ({outcome.training_seconds:.0f} s of training this run)",
            markup=False,
        )
    return True


def _markdown(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(value) for value in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def write_results(
    result: ComparisonResult, base: StudyConfig, out: Path, command: str, *, plotlyjs: str = "inline"
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "trials.csv", out / "studies.csv", out / "spaces.csv"]
    result.trials.to_csv(written[0], index=False)
    result.studies.to_csv(written[1], index=False)
    result.spaces.to_csv(written[2], index=False)
    title = f"{base.task}: heterogeneous vs homogeneous spaces ({base.name}, {len(set(result.studies['seed']))} seeds)"
    html, png, why = write_figure(comparison_figure(result, title), out, plotlyjs=plotlyjs)
    written += [html] + ([png] if png else [])
    caps = ", ".join(f"cap{index + 1} = {cap:.3g}" for index, cap in enumerate(result.caps))
    reference = ", ".join(f"{name} {value:.4g}" for name, value in result.reference.items())
    columns = ["space", "seeds", "complete_trials", "hypervolume_mean", "hypervolume_std", "hypervolume_min"]
    columns += ["hypervolume_max", "hypervolume_vs_heterogeneous"]
    columns += [f"best_{result.quality}_cap{index + 1}_mean" for index in range(len(result.caps))]
    lines = [
        f"# {title}",
        "",
        f"Reproduce: `{command}`",
        "",
        f"Objectives: {', '.join(f'{n} ({d})' for n, d in zip(result.objectives, result.directions, strict=True))}.",
        f"Training per trial: {base.training_budget}, batch {base.training.batch_size}; {base.trials}"
        f"{' trained' if base.count == 'trained' else ''} trials per study; sampler {base.sampler.name};"
        f" data {base.data}.",
        f"Hypervolume reference point ({'derived from all trials' if result.reference_derived else 'from the config'}):"
        f" {reference}.",
        f"Cost caps on {result.cost}: {caps}.",
        "",
        "## Verdict",
        "",
        *result.verdict.splitlines(),
        "",
        "## Per space (over seeds)",
        "",
        _markdown(result.spaces[columns]),
        "",
        "## Per study",
        "",
        _markdown(result.studies),
        "",
    ]
    if why:
        lines += [f"(No PNG: {why})", ""]
    (out / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    written.append(out / "summary.md")
    return written


def _compare_command(args: argparse.Namespace) -> int:
    base = StudyConfig.load(args.config)
    blocks = [block.strip() for block in args.blocks.split(",") if block.strip()] if args.blocks else list(MODES)
    seeds = _integers(args.seeds, "compare --seeds")
    out = Path(args.out) if args.out else base.output / f"{base.name}-comparison"
    caps = _caps(args.caps)
    if args.trials is not None:
        base = replace(base, trials=args.trials)
    variants = comparison_variants(base, blocks=blocks, seeds=seeds, out=out)
    configure_logging(verbose=args.verbose)
    console = make_console()
    if not args.analyse_only and not run_variants(variants, quiet=args.quiet, address=args.address, console=console):
        return INTERRUPTED_EXIT
    result = analyse(variants, base, caps=caps)
    command = f"centaurus-nas compare {args.config} --seeds {args.seeds} --out {out}"
    if args.blocks:
        command += f" --blocks {args.blocks}"
    written = write_results(result, base, out, command, plotlyjs=args.plotlyjs)
    console.print(result.verdict, markup=False)
    console.print("wrote " + ", ".join(str(path) for path in written), markup=False)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare", help="search a config's space and its homogeneous variants with the same budget and seeds"
    )
    compare.add_argument("config", help="study config (studies/*.yaml); its space is the heterogeneous one")
    compare.add_argument("--blocks", help=f"homogeneous variants to run (default: all of {', '.join(MODES)})")
    compare.add_argument("--seeds", default="0,1,2", help="sampler and training seeds, one study each (default 0,1,2)")
    compare.add_argument("--out", help="results folder (default: OUTPUT/NAME-comparison)")
    compare.add_argument("--caps", help="cost caps on the first cost objective, e.g. 2G,5G,20G (default: quartiles)")
    compare.add_argument("--trials", type=trial_count, help="override the trial budget of every study")
    compare.add_argument("--analyse-only", action="store_true", help="only redo tables and figures from stored studies")
    compare.add_argument(
        "--plotlyjs",
        choices=("inline", "cdn"),
        default="inline",
        help="fronts.html: plotly inlined (offline) or from its CDN",
    )
    compare.add_argument("--address", help="join this Ray cluster (default: $RAY_ADDRESS, else a local instance)")
    compare.add_argument("--quiet", action="store_true", help="no live progress")
    compare.add_argument("--verbose", action="store_true", help="also show Ray's and Optuna's log lines")
    compare.set_defaults(handler=_compare_command)
