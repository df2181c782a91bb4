"""``centaurus-nas search | resume | status | pareto``: run a study and look at it."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import optuna
from rich.console import Console
from rich.table import Table

from nas.study.config import StudyConfig
from nas.study.driver import SECONDS_ATTR, SearchDriver
from nas.study.progress import SearchProgress
from nas.study.storage import find_config, load_existing_study
from nas.study.summary import study_counts
from nas.study.trials import front_frame, write_tables


def _load(config: StudyConfig) -> optuna.Study:
    return load_existing_study(config)


def _run(config: StudyConfig, args: argparse.Namespace) -> int:
    if args.address:
        config = replace(config, ray_address=args.address)
    if getattr(args, "trials", None):
        config = replace(config, trials=args.trials)
    console = Console()
    console.print(f"study {config.name}: {config.task} on {config.data}, storage {config.storage_url}", markup=False)
    with SearchProgress(enabled=not args.quiet, console=console) as progress:
        driver = SearchDriver(config, progress=progress)
        outcome = driver.run()
    console.print(
        f"done in {outcome.seconds:.0f} s ({outcome.training_seconds:.0f} s of training): {outcome.complete} complete,"
        f" {outcome.pruned} pruned, {outcome.failed} failed, {outcome.interrupted} interrupted",
        markup=False,
    )
    _print_front(console, driver.study, config, None)
    trials_path, front_path = write_tables(driver.study, config)
    console.print(f"wrote {trials_path}, {front_path} and {config.output_dir / 'config.yaml'}", markup=False)
    return 0


def _search_command(args: argparse.Namespace) -> int:
    return _run(StudyConfig.load(args.config), args)


def _resume_command(args: argparse.Namespace) -> int:
    return _run(find_config(args.study), args)


def _status_command(args: argparse.Namespace) -> int:
    config = find_config(args.study)
    study = _load(config)
    counts = study_counts(study, config)
    seconds = float(study.user_attrs.get(SECONDS_ATTR, 0.0))
    budget = f"{config.trials} trials" if config.trials else "no trial limit"
    if config.wall_time:
        budget += f", {config.wall_time:.0f} s"
    print(f"study {config.name} ({config.task}) in {config.storage_url}")
    print(f"budget: {budget}; search time used: {seconds:.0f} s")
    print(
        f"complete {counts.complete}, running {counts.running}, waiting {counts.waiting}, pruned {counts.pruned},"
        f" failed {counts.failed}, interrupted {counts.interrupted}"
    )
    objectives = ", ".join(f"{o.name} ({o.direction})" for o in config.objectives)
    print(f"objectives: {objectives}")
    if counts.hypervolume is None:
        print("Pareto front: no complete trial yet")
    else:
        source = "declared" if counts.reference_declared else "derived from the trials"
        reference = ", ".join(f"{value:.6g}" for value in counts.reference or ())
        print(f"Pareto front: {counts.front_size} trial(s); hypervolume {counts.hypervolume:.6g}")
        print(f"reference point ({source}): {reference}")
    return 0


def _pareto_command(args: argparse.Namespace) -> int:
    config = find_config(args.study)
    study = _load(config)
    objectives = [name.strip() for name in args.objectives.split(",")] if args.objectives else None
    console = Console()
    front = _print_front(console, study, config, objectives)
    out = Path(args.csv) if args.csv else config.output_dir / "pareto.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    front.to_csv(out, index=False)
    console.print(f"wrote {out}", markup=False)
    return 0


def _print_front(console: Console, study: optuna.Study, config: StudyConfig, objectives: list[str] | None):
    front = front_frame(study, config, objectives)
    names = objectives or config.objective_names
    table = Table(title=f"Pareto front of {config.name} over {', '.join(names)}: {len(front)} trial(s)")
    table.add_column("trial", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("architecture")
    for _, row in front.iterrows():
        table.add_row(str(row["number"]), *(_fmt(row[name]) for name in names), str(row["summary"]))
    console.print(table)
    return front


def _fmt(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.4g}"
    return str(value)


def register(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser("search", help="run (or continue) the study a config describes")
    search.add_argument("config", help="study config (studies/*.yaml)")
    search.add_argument("--address", help="join this Ray cluster (default: $RAY_ADDRESS, else a local instance)")
    search.add_argument("--trials", type=int, help="override the config's trial budget")
    search.add_argument("--quiet", action="store_true", help="no live progress")
    search.set_defaults(handler=_search_command)

    where = "a study config, its output folder, or STORAGE_URL#STUDY_NAME"
    resume = commands.add_parser("resume", help="continue a study after its driver stopped")
    resume.add_argument("study", help=where)
    resume.add_argument("--address", help="join this Ray cluster")
    resume.add_argument("--trials", type=int, help="override the trial budget")
    resume.add_argument("--quiet", action="store_true")
    resume.set_defaults(handler=_resume_command)

    status = commands.add_parser("status", help="trial counts, time used, Pareto front size and hypervolume")
    status.add_argument("study", help=where)
    status.set_defaults(handler=_status_command)

    pareto = commands.add_parser("pareto", help="print a study's Pareto front and write it as CSV")
    pareto.add_argument("study", help=where)
    pareto.add_argument("--objectives", help="comma-separated subset of the objectives (default: all)")
    pareto.add_argument("--csv", help="where to write the front (default: OUTPUT/pareto.csv)")
    pareto.set_defaults(handler=_pareto_command)
