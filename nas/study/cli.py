"""``centaurus-nas search | resume | status | pareto``: run a study and look at it."""

from __future__ import annotations

import argparse
import math
import re
import shlex
from collections import Counter
from dataclasses import replace
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState
from rich.console import Console
from rich.table import Table

from nas.console import configure_logging, make_console
from nas.cost import format_quantity
from nas.report.build import write_tables
from nas.study import attrs
from nas.study.arguments import trial_count
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.limits import SECONDS_ATTR
from nas.study.progress import SearchProgress
from nas.study.run import run_study
from nas.study.stopping import INTERRUPTED_EXIT, StopOnInterrupt
from nas.study.storage import find_config, load_existing_study, redact
from nas.study.summary import StudyCounts, front_warning, study_counts
from nas.study.trials import front_frame, fronts_frame
from nas.study.weight_sharing import SUPERNET_ATTR, agreement
from nas.study.weight_sharing.fronts import quality_objectives


def _load(config: StudyConfig) -> optuna.Study:
    return load_existing_study(config)


def _run(config: StudyConfig, args: argparse.Namespace) -> int:
    if args.address:
        config = replace(config, ray_address=args.address)
    if getattr(args, "trials", None) is not None:
        config = replace(config, trials=args.trials)
    console = make_console()
    console.print(
        f"study {config.name}: {config.task} on {config.data}, storage {redact(config.storage_url)}", markup=False
    )
    try:
        with StopOnInterrupt() as stop, SearchProgress(enabled=not args.quiet, console=console) as progress:
            outcome = run_study(config, progress=progress, stop=stop)
    except KeyboardInterrupt:  # before the search loop started (set-up, data generation): nothing ran yet
        console.print("interrupted during set-up, before the search loop; run the same command again", markup=False)
        return INTERRUPTED_EXIT
    console.print(
        f"{'stopped' if outcome.stopped_by_user else 'done'} in {outcome.seconds:.0f} s"
        f" ({outcome.training_seconds:.0f} s of training): {outcome.complete} complete,"
        f" {outcome.pruned} pruned, {outcome.failed} failed, {outcome.interrupted} interrupted",
        markup=False,
    )
    if outcome.stopped_by_user:
        trials_path, _ = write_tables(outcome.study, config)
        console.print(
            f"interrupted: {outcome.complete + outcome.pruned + outcome.failed} finished trial(s) kept (see"
            f" {trials_path}), {outcome.marked_interrupted} running trial(s) marked interrupted; continue with:"
            f" {_resume_hint(config)}",
            markup=False,
        )
        return INTERRUPTED_EXIT
    _print_front(console, outcome.study, config, None)
    _print_volume(console, study_counts(outcome.study, config), config)
    new_trials = outcome.new_trials()
    skipped = {path: reason for t in new_trials for path, reason in t.user_attrs.get(attrs.SKIPPED_FILES, [])}
    if skipped:
        shown = "; ".join(f"{path} ({reason})" for path, reason in list(skipped.items())[:5])
        console.print(
            f"skipped {len(skipped)} unusable audio file(s) (trial attribute skipped_files): {shown}",
            markup=False,
            soft_wrap=True,
        )
    trials_path, front_path = write_tables(outcome.study, config)
    console.print(f"wrote {trials_path}, {front_path} and {config.output_dir / 'config.yaml'}", markup=False)
    _check_something_was_trained(new_trials, config)
    return 0


def _resume_hint(config: StudyConfig) -> str:
    return f"centaurus-nas resume {shlex.quote(str(config.output_dir))}"


def _check_something_was_trained(trials: list[optuna.trial.FrozenTrial], config: StudyConfig) -> None:
    """Raise when every trial this run asked for was pruned before training.

    That happens when no architecture of the space can meet the constraints (or the machine): the search
    "succeeds" with an empty front, which looks like a bug unless it says so. The pruned trials stay in the
    study with their reasons, so nothing is lost by reporting it as an error.
    """
    _check_not_all_failed(trials)
    pruned = [t for t in trials if t.state == TrialState.PRUNED and attrs.RUNGS not in t.user_attrs]
    if not trials or len(pruned) < len(trials):
        return
    costs = [t.user_attrs.get(attrs.COST, {}) for t in pruned]
    reasons = [str(t.user_attrs.get(attrs.REASON, "")) for t in pruned]
    if config.constraints and all(reason.startswith("constraint ") for reason in reasons):
        closest = []
        for constraint in config.constraints:
            values = [cost[constraint.name] for cost in costs if constraint.name in cost]
            if values and not any(constraint.satisfied_by(value) for value in values):
                lowest = constraint.operator == "<="
                best = min(values) if lowest else max(values)
                closest.append(f"{constraint} ({'smallest' if lowest else 'largest'} seen {best:.6g})")
        raise StudyConfigError(
            f"constraints: got {', '.join(closest) or ', '.join(map(str, config.constraints))}, which every one of the"
            f" {len(pruned)} trial(s) of this run violated, so nothing was trained; allowed: limits that some"
            " architecture of the space meets (loosen them, or change the space or the cost settings)"
        )
    raise StudyConfigError(
        f"search: all {len(pruned)} trial(s) of this run were pruned before training (first: {reasons[0]});"
        " allowed: a space, cost settings and constraints that some architecture meets"
    )


def _check_not_all_failed(trials: list[optuna.trial.FrozenTrial]) -> None:
    """Raise when every trial of this run that went to training failed: the search has no result at all.

    One bad input (a clip, a learning rate) usually fails every trial the same way; the message gives the
    most common reason (numbers aside) and how many trials it ended.
    """
    ran = [t for t in trials if not t.user_attrs.get(attrs.INTERRUPTED) and not t.user_attrs.get(attrs.NOT_TRAINED)]
    failed = [t for t in ran if t.state == TrialState.FAIL]
    if not ran or len(failed) < len(ran):
        return
    reasons = [str(t.user_attrs.get(attrs.REASON, "unknown")) for t in failed]
    shapes = Counter(re.sub(r"[-+]?\d[\d.e+-]*|nan|inf", "N", reason) for reason in reasons)
    shape, count = shapes.most_common(1)[0]
    example = next(r for r in reasons if re.sub(r"[-+]?\d[\d.e+-]*|nan|inf", "N", r) == shape)
    raise StudyConfigError(
        f"search: all {len(failed)} trial(s) of this run that trained failed, {count} of them with {example!r}"
        " (numbers aside); allowed: training that can succeed (check the data, the training settings and the"
        " trials' reasons with `centaurus-nas status` or trials.csv)"
    )


def _search_command(args: argparse.Namespace) -> int:
    configure_logging(verbose=args.verbose)
    return _run(StudyConfig.load(args.config), args)


def _resume_command(args: argparse.Namespace) -> int:
    configure_logging(verbose=args.verbose)
    return _run(find_config(args.study), args)


def _status_command(args: argparse.Namespace) -> int:
    config = find_config(args.study)
    study = _load(config)
    counts = study_counts(study, config)
    seconds = float(study.user_attrs.get(SECONDS_ATTR, 0.0))
    budget = f"{config.trials} trials" if config.trials else "no trial limit"
    if config.trials and config.count == "trained":
        budget += " that train (trials pruned before training and duplicates not counted)"
    if config.wall_time:
        budget += f", {config.wall_time:.0f} s"
    print(f"study {config.name} ({config.task}) in {redact(config.storage_url)}")
    print(f"budget: {budget}; search time used: {seconds:.0f} s")
    print(
        f"complete {counts.complete}, running {counts.running}, waiting {counts.waiting}, pruned {counts.pruned},"
        f" failed {counts.failed}, interrupted {counts.interrupted}"
    )
    objectives = ", ".join(f"{o.name} ({o.direction})" for o in config.objectives)
    print(f"objectives: {objectives}")
    if counts.hypervolume is None:
        print(
            "confirmed Pareto front: no confirmed trial yet"
            if config.weight_sharing
            else "Pareto front: no complete trial yet"
        )
    else:
        front = "confirmed Pareto front (stand-alone training)" if config.weight_sharing else "Pareto front"
        print(f"{front}: {counts.front_size} trial(s); {_volume_line(counts)}")
    if counts.reference is not None:
        print(counts.reference.describe())
    warning = front_warning(counts, config)
    if warning:
        print(warning)
    if config.weight_sharing:
        _print_weight_sharing(study, config, counts.estimated or 0, counts.estimated_front_size or 0)
    return 0


def _print_weight_sharing(study: optuna.Study, config: StudyConfig, estimated: int, front: int) -> None:
    """The supernet, the estimated front and how well the estimate agreed with stand-alone training."""
    supernet = study.user_attrs.get(SUPERNET_ATTR)
    trained = (
        "not trained yet" if supernet is None else f"trained {supernet['steps']} steps in {supernet['seconds']:.0f} s"
    )
    print(f"supernet: {trained}; estimated {estimated} architecture(s), estimated Pareto front {front} trial(s)")
    for line in agreement(study, config):
        print(f"estimate vs stand-alone, {line.line()}")


def _print_volume(console: Console, counts: StudyCounts, config: StudyConfig) -> None:
    """The normalised hypervolume and its reference point under a printed front, then the small-front warning."""
    if counts.hypervolume is not None and counts.reference is not None:
        console.print(f"{_volume_line(counts)}; {counts.reference.describe()}", markup=False, soft_wrap=True)
    warning = front_warning(counts, config)
    if warning:
        console.print(warning, markup=False, soft_wrap=True)


def _volume_line(counts: StudyCounts) -> str:
    """The normalised hypervolume, with the raw figure (units multiplied) in brackets for the record."""
    text = counts.volume_text()
    if counts.share is not None and math.isfinite(counts.share):
        text += f" between the reference and ideal points (raw {counts.hypervolume:.4g})"
    return text


def _pareto_command(args: argparse.Namespace) -> int:
    config = find_config(args.study)
    study = _load(config)
    objectives = [name.strip() for name in args.objectives.split(",")] if args.objectives else None
    console = make_console()
    _print_front(console, study, config, objectives)
    if objectives is None or objectives == config.objective_names:  # a subset's front has its own volume
        _print_volume(console, study_counts(study, config), config)
    front = fronts_frame(study, config, objectives)
    out = Path(args.csv) if args.csv else config.output_dir / "pareto.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    front.to_csv(out, index=False)
    console.print(f"wrote {out}", markup=False)
    return 0


def _print_front(console: Console, study: optuna.Study, config: StudyConfig, objectives: list[str] | None) -> None:
    """The Pareto front; a weight-sharing study's estimated front, its confirmed front (each confirmation beside
    the estimate it was picked with) and the rank correlation between the two."""
    names = objectives or config.objective_names
    if not config.weight_sharing:
        _front_table(console, front_frame(study, config, objectives), f"Pareto front of {config.name}", names, [])
        return
    estimated = front_frame(study, config, objectives, kind="estimated")
    _front_table(console, estimated, f"Estimated Pareto front of {config.name} (supernet)", names, [])
    confirmed = front_frame(study, config, objectives, kind="confirmed")
    quality = [name for name in quality_objectives(config) if name in names]
    title = f"Confirmed Pareto front of {config.name} (stand-alone training)"
    _front_table(console, confirmed, title, names, [*(f"estimate.{name}" for name in quality), "confirms"])
    for line in agreement(study, config):
        console.print(f"estimate vs stand-alone, {line.line()}", markup=False)


def _front_table(console: Console, front: pd.DataFrame, title: str, names: list[str], extra: list[str]) -> None:
    """One front as a table: a line per trial, the architecture summaries' shared head said once in the caption."""
    summaries = [str(summary) for summary in front["summary"]] if len(front) else []
    head, stages = split_summaries(summaries)
    table = Table(
        title=f"{title} over {', '.join(names)}: {len(front)} trial(s)",
        caption=f"every architecture: {head} | <its stages, shown>" if head else None,
    )
    table.add_column("trial", justify="right", no_wrap=True)
    for name in [*names, *extra]:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("architecture", no_wrap=True, overflow="ellipsis")  # one line per trial, even if cut
    for (_, row), summary in zip(front.iterrows(), stages, strict=True):
        cells = (
            _fmt(name.removeprefix("estimate."), row.get(name), whole=name == "confirms") for name in [*names, *extra]
        )
        table.add_row(str(row["number"]), *cells, summary)
    console.print(table)
    console.print(table)


def split_summaries(summaries: list[str]) -> tuple[str | None, list[str]]:
    """The part every architecture summary shares (``kws logmel40/160``) and the stages of each.

    The shared head is said once, in the table's caption, so the architecture column holds only what
    differs between rows and stays one line in a terminal too.
    """
    parts = [summary.split(" | ", 1) for summary in summaries]
    heads = {part[0] for part in parts if len(part) == 2}
    if len(heads) != 1 or any(len(part) != 2 for part in parts):
        return None, summaries
    return heads.pop(), [part[1] for part in parts]


def _fmt(name: str, value: object, *, whole: bool = False) -> str:
    if whole and isinstance(value, float) and math.isfinite(value):
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return format_quantity(name, float(value))
    return str(value)


def register(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser("search", help="run (or continue) the study a config describes")
    search.add_argument("config", help="study config (studies/*.yaml)")
    search.add_argument("--address", help="join this Ray cluster (default: $RAY_ADDRESS, else a local instance)")
    search.add_argument("--trials", type=trial_count, help="override the config's trial budget")
    search.add_argument("--quiet", action="store_true", help="no live progress")
    search.add_argument("--verbose", action="store_true", help="also show Ray's and Optuna's log lines")
    search.set_defaults(handler=_search_command)

    where = "a study config, its output folder, or STORAGE_URL#STUDY_NAME"
    resume = commands.add_parser("resume", help="continue a study after its driver stopped")
    resume.add_argument("study", help=where)
    resume.add_argument("--address", help="join this Ray cluster")
    resume.add_argument("--trials", type=trial_count, help="override the trial budget")
    resume.add_argument("--quiet", action="store_true", help="no live progress")
    resume.add_argument("--verbose", action="store_true", help="also show Ray's and Optuna's log lines")
    resume.set_defaults(handler=_resume_command)

    status = commands.add_parser("status", help="trial counts, time used, Pareto front size and hypervolume")
    status.add_argument("study", help=where)
    status.set_defaults(handler=_status_command)

    pareto = commands.add_parser("pareto", help="print a study's Pareto front and write it as CSV")
    pareto.add_argument("study", help=where)
    pareto.add_argument("--objectives", help="comma-separated subset of the objectives (default: all)")
    pareto.add_argument("--csv", help="where to write the front (default: OUTPUT/pareto.csv)")
    pareto.set_defaults(handler=_pareto_command)
