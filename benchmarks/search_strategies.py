"""Which search strategy finds better fronts on kws-mel, per architecture trained and per CPU-second of training?

Random search, NSGA-II, TPE and GP samplers, each at full fidelity and with successive halving on
Pareto rank (rungs 1/9, 1/3 and 1 of the training budget, eta 3, promotions continuing from
checkpoints), over ``--seeds`` seeds each. Every study runs through the real driver, sampler and
scheduler on the simulated backend, which replays the results table that
``benchmarks/build_results_table.py`` trained (its space, its training budget) on a simulated clock
with ``--workers`` trial slots. Objectives: test accuracy (maximise) and training FLOPs per step
(minimise, from the cost model); hypervolume against accuracy 0 and the table's largest FLOPs, as
a share of that box.

Successive halving trains far less per architecture, so its studies get ``--sh-trials`` trials
(default: 3x ``--trials``): the curves against simulated seconds then cover about the same compute.
``--retraining`` adds, per sampler, successive halving whose promotions train again from step 0
(how promotions worked before they continued from checkpoints; the replayed metrics are still the
continued runs', so only the cost differs): training seconds per full-fidelity result, both ways.

    python benchmarks/search_strategies.py --table benchmarks/data/kws_mel_table.jsonl --seeds 10 \\
        --json benchmarks/results/search_strategies.json --html benchmarks/results/search_strategies.html \\
        --png docs/search-strategies.png
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna

from nas.cost import score
from nas.pareto import normalised_hypervolume
from nas.study import StudyConfig, run_study
from nas.study.backends import ResultsTable, SimulatedBackend
from search_spaces import Architecture

optuna.logging.set_verbosity(optuna.logging.ERROR)
SAMPLERS = ("random", "nsga2", "tpe", "gp")
MODES = {"full": "", "sh": " + SH", "sh-retrain": " + SH, promotions retrain"}
HALVING = {"min_fraction": 1 / 9, "eta": 3}
DIRECTIONS = ["maximize", "minimize"]


def _config(table: ResultsTable, folder: Path, sampler: str, seed: int, trials: int, mode: str) -> StudyConfig:
    header = table.header
    options = {"population_size": 8} if sampler == "nsga2" else {}
    return StudyConfig.from_dict(
        {
            "name": f"{sampler}-{mode}-{seed}",
            "task": header["task"],
            "data": str(folder),  # nothing is read: the table stands in for training
            "space": header["space"],
            "objectives": {"accuracy": "maximize", "train_flops": "minimize"},
            "budget": {"trials": trials},
            "training": {"budget": header["budget"], "batch_size": header["training"]["batch_size"]},
            "sampler": {"name": sampler, "seed": seed, "options": options},
            "fidelity": {"min_fraction": 1.0} if mode == "full" else HALVING,
            "cost": {"batch": header["training"]["batch_size"]},
            "keep_weights": False,
            "output": str(folder / "runs"),
        }
    )


def _curve(
    study: optuna.Study, backend: SimulatedBackend, reference: np.ndarray, top: int
) -> list[tuple[float, int, float]]:
    """``(simulated seconds, architectures started, hypervolume share)`` after each full-fidelity result."""
    trials = {trial.number: trial for trial in study.trials}
    points, curve, started = [], [], 0
    best = np.array([[1.0, 0.0]])  # the box: accuracy in [0, 1] times FLOPs in [0, reference]
    for event in backend.events:
        if not event.ended:
            started += event.rung == 0
            continue
        trial = trials[event.trial]
        if event.rung != top or trial.values is None:
            continue
        points.append(list(trial.values))
        volume = normalised_hypervolume(np.array(points), reference, DIRECTIONS, ideal_of=best)
        curve.append((event.time, started, volume))
    return curve


def _reference(table: ResultsTable) -> np.ndarray:
    """Accuracy 0 and the largest training FLOPs of the table's architectures (at the table's batch)."""
    batch = table.header["training"]["batch_size"]
    flops = max(score(Architecture.from_dict(spec), batch).train_flops for spec in table.architectures.values())
    return np.array([0.0, flops])


def _run(
    table: ResultsTable, reference: np.ndarray, sampler: str, seed: int, trials: int, mode: str, workers: int
) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        config = _config(table, Path(folder), sampler, seed, trials, mode)
        backend = SimulatedBackend(table, workers=workers, checkpoints=mode != "sh-retrain")
        started = time.perf_counter()
        outcome = run_study(config, backend=backend, storage=optuna.storages.InMemoryStorage())
        curve = _curve(outcome.study, backend, reference, top=len(config.fidelity.rungs) - 1)
    results = len(curve)  # full-fidelity results that trained (duplicates reuse one)
    return {
        "sampler": sampler,
        "mode": mode,
        "seed": seed,
        "trials": trials,
        "complete": outcome.complete,
        "simulated_seconds": backend.now,
        "architectures": sum(1 for event in backend.events if not event.ended and event.rung == 0),
        "hypervolume": curve[-1][2] if curve else 0.0,
        "training_seconds": outcome.training_seconds,
        "seconds_per_result": outcome.training_seconds / results if results else float("nan"),
        "curve": curve,
        "engine_seconds": time.perf_counter() - started,
    }


def _at(curve: list, x: float, axis: int) -> float:
    """The hypervolume a study had reached by ``x`` on ``axis`` (0: simulated seconds, 1: architectures)."""
    reached = [point[2] for point in curve if point[axis] <= x]
    return reached[-1] if reached else 0.0


def _summary(rows: list[dict]) -> list[dict]:
    """Mean and spread per strategy; hypervolume at a common compute budget (the smallest mean simulated time
    of any strategy) and after a common number of architectures (the smallest mean of any strategy)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["sampler"], row["mode"]), []).append(row)
    horizon = min(np.mean([row["simulated_seconds"] for row in group]) for group in groups.values())
    architectures = min(np.mean([row["architectures"] for row in group]) for group in groups.values())
    summary = []
    for (sampler, mode), group in groups.items():
        final = [row["hypervolume"] for row in group]
        at_time = [_at(row["curve"], horizon, 0) for row in group]
        at_count = [_at(row["curve"], architectures, 1) for row in group]
        summary.append(
            {
                "strategy": f"{sampler}{MODES[mode]}",
                "seeds": len(group),
                "hypervolume": (float(np.mean(final)), float(np.std(final))),
                "hv_at_common_seconds": (float(np.mean(at_time)), float(np.std(at_time))),
                "hv_at_common_architectures": (float(np.mean(at_count)), float(np.std(at_count))),
                "simulated_hours": float(np.mean([row["simulated_seconds"] for row in group]) / 3600),
                "architectures": float(np.mean([row["architectures"] for row in group])),
                "seconds_per_result": float(np.nanmean([row["seconds_per_result"] for row in group])),
                "engine_seconds": float(np.mean([row["engine_seconds"] for row in group])),
                "horizon_hours": horizon / 3600,
                "horizon_architectures": architectures,
            }
        )
    return summary


def _table(summary: list[dict]) -> str:
    """The summary as a Markdown table (the README's). Hours are the simulated clock of the trial slots."""
    first = summary[0]
    lines = [
        "| strategy | seeds | architectures trained | simulated hours | training s per full-fidelity result"
        f" | hypervolume, final | at {first['horizon_hours']:.2f} h | after {first['horizon_architectures']:.0f}"
        " architectures |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for line in summary:
        keys = ("hypervolume", "hv_at_common_seconds", "hv_at_common_architectures")
        cells = " | ".join(f"{line[key][0]:.3f} ± {line[key][1]:.3f}" for key in keys)
        lines.append(
            f"| {line['strategy']} | {line['seeds']} | {line['architectures']:.0f} | {line['simulated_hours']:.2f}"
            f" | {line['seconds_per_result']:.0f} | {cells} |"
        )
    return "\n".join(lines)


def _figure(rows: list[dict]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("against architectures trained", "against simulated hours (trial slots)")
    )
    colours = dict(zip(SAMPLERS, ("#7f7f7f", "#1f77b4", "#2ca02c", "#d62728"), strict=True))
    for sampler in SAMPLERS:
        for mode in MODES:
            group = [row for row in rows if row["sampler"] == sampler and row["mode"] == mode]
            if not group:
                continue
            name = f"{sampler}{MODES[mode]}"
            dash = {"full": "solid", "sh": "dot", "sh-retrain": "dashdot"}[mode]
            for axis, column, scale in ((1, 1, 1.0), (0, 2, 1 / 3600)):
                end = max(point[axis] for row in group for point in row["curve"]) if group[0]["curve"] else 0
                grid = np.linspace(0, end, 60)
                mean = [np.mean([_at(row["curve"], x, axis) for row in group]) for x in grid]
                figure.add_trace(
                    go.Scatter(
                        x=grid * scale,
                        y=mean,
                        name=name,
                        legendgroup=name,
                        showlegend=column == 1,
                        line={"color": colours[sampler], "dash": dash},
                    ),
                    row=1,
                    col=column,
                )
    figure.update_yaxes(title_text="hypervolume (share of the box), mean over seeds")
    figure.update_layout(title="Search strategies on the kws-mel results table", width=1100, height=450)
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default="benchmarks/data/kws_mel_table.jsonl")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=40, help="trials per full-fidelity study")
    parser.add_argument("--sh-trials", type=int, help="trials per successive-halving study (default: 3x --trials)")
    parser.add_argument("--workers", type=int, default=2, help="simulated trial slots")
    parser.add_argument("--retraining", action="store_true", help="also successive halving whose promotions retrain")
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    parser.add_argument("--json", help="write every study's row and curve here")
    parser.add_argument("--html", help="write the plotly figure here")
    parser.add_argument("--png", help="write the figure as PNG here (needs kaleido and Chrome)")
    args = parser.parse_args()

    table = ResultsTable.load(args.table)
    reference = _reference(table)
    print(f"{args.table}: {len(table.rungs)} architectures, rungs {', '.join(table.budgets)}", flush=True)
    rows = []
    for sampler in args.samplers:
        for mode in ("full", "sh", "sh-retrain") if args.retraining else ("full", "sh"):
            trials = args.trials if mode == "full" else (args.sh_trials or 3 * args.trials)
            for seed in range(args.seeds):
                row = _run(table, reference, sampler, seed, trials, mode, args.workers)
                rows.append(row)
                print(
                    f"{sampler:>6} {mode:>10} seed {seed}: HV {row['hypervolume']:.4f},"
                    f" {row['architectures']} architectures, {row['simulated_seconds'] / 3600:.2f} h simulated"
                    f" ({row['engine_seconds']:.1f} s)",
                    flush=True,
                )
    summary = _summary(rows)
    print()
    print(_table(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "studies": rows}, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.html or args.png:
        figure = _figure(rows)
        if args.html:
            figure.write_html(args.html, include_plotlyjs="cdn")
            print(f"wrote {args.html}")
        if args.png:
            figure.write_image(args.png)
            print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
