"""How well do supernet estimates rank architectures, next to how well stand-alone training ranks them
against itself? (issue 21's rank correlation, taken apart)

Weight sharing is judged by the rank correlation between the supernet's estimate and the accuracy of
the same architecture trained stand-alone with one seed. That stand-alone accuracy is itself noisy:
train the same architectures again with another seed and the ranking moves. Kendall tau between two
seeds is about the best any estimator can score against one seed, so it says whether a target such as
tau >= 0.5 is within reach at a given training budget, or whether the budget has to grow first.

1. Random distinct architectures of the study's space are trained at ``--budget``, once per seed, through
   the task API a trial uses (``make_task(...).run``; accuracy on the test split, as a trial's).
2. With ``--supernet-budget``, one supernet of the space is trained with the weight-sharing study's
   settings (``--ws-config``: sandwich, distillation, top path) and the same architectures are
   estimated on it (inherited weights, batch norm recalibrated on ``--calibration`` training batches,
   validation split), as the weight-sharing search does; ``--finetune`` also trains each extracted path
   a few steps first (``nas.supernet.estimate(..., finetune_steps=)``).

Printed: Kendall tau and Spearman rho for every pair of seeds, and for the estimate (its accuracy, and its
validation loss: a continuous score, less noisy over a few hundred clips) and for the parameter count (a
proxy that costs nothing) against each seed and against the seeds' mean; with a supernet, also how near
each architecture is to the two paths the sandwich rule trains every step (choices in common with the
nearer of the largest and the smallest), against quality and against the estimates. Rows and tables are
written as JSON. ``--reuse`` takes the stand-alone rows of an earlier run's JSON (same architectures) and
skips step 1.

Experiments: ``--space`` searches another built-in space (``kws-mel-dws``: one block type);
``--distill-weight`` overrides the study's distillation (0: none); ``--random-paths`` and ``--no-ends``
change the paths per step (``--no-ends``: uniform draws only, no largest or smallest path).

    python benchmarks/rank_agreement.py --architectures 16 --seeds 0,1,2 --budget 400steps \\
        --supernet-budget 600s --calibration 8,32 --finetune 0,50 --out benchmarks/results/rank_agreement.json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from centaurus.supernet import Supernet
from nas.cost import score
from nas.pareto import kendall_tau, spearman_rho
from nas.study import StudyConfig, preflight
from nas.study.progress import SearchProgress
from nas.supernet import SandwichSettings, estimate, train_supernet
from nas.tasks import Budget, Task, make_task
from search_spaces import Architecture, builtin_space, space_names

ROOT = Path(__file__).resolve().parents[1]
LOSS_METRIC = "test_loss"  # what the kws task's evaluation reports beside accuracy (on whatever split it ran)


def sample_architectures(config: StudyConfig, count: int, seed: int) -> list[Architecture]:
    """``count`` distinct random architectures (a repeat would inflate any agreement)."""
    rng = random.Random(seed)
    archs: list[Architecture] = []
    seen: set[str] = set()
    while len(archs) < count:
        arch = config.space.random(rng)
        if arch.id not in seen:
            seen.add(arch.id)
            archs.append(arch)
    return archs


def train_standalone(
    config: StudyConfig, task: Task, archs: list[Architecture], seeds: list[int], budget: Budget
) -> list[dict[str, Any]]:
    """One row per architecture: its id, its block per stage and its accuracy per seed (NaN: failed)."""
    quality = config.objective_names[0]
    rows = []
    for number, arch in enumerate(archs, start=1):
        row: dict[str, Any] = {"arch": arch.id, "blocks": [stage.block for stage in arch.stages]}
        for seed in seeds:
            started = time.monotonic()
            result = task.run(arch, budget, dataclasses.replace(config.training, seed=seed))
            completed = result.status == "completed"
            row[f"seed{seed}"] = result.metrics.get(quality, math.nan) if completed else math.nan
            print(
                f"[{number}/{len(archs)}] {arch.id} seed {seed}: {quality} {row[f'seed{seed}']:.4f}"
                f" ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
        rows.append(row)
    return rows


def sandwich_settings(
    ws_config: StudyConfig, distill_weight: float | None = None, random_paths: int | None = None, ends: bool = True
) -> SandwichSettings:
    """The weight-sharing study's sandwich, as its search trains the supernet, with an experiment's overrides:
    ``distill_weight`` (0: no distillation; 1: students learn from the largest path only; between: both losses,
    mixed), ``random_paths`` per step, and ``ends`` (False: uniform draws only, hence no distillation)."""
    if not ws_config.weight_sharing:
        raise SystemExit(
            f"--ws-config: {ws_config.name} is not a weight-sharing study; allowed: strategy weight-sharing"
        )
    settings = ws_config.supernet
    distill = settings.distill if distill_weight is None else distill_weight > 0
    return SandwichSettings(
        random_paths=settings.sandwich if random_paths is None else random_paths,
        ends=ends,
        distill=distill and ends,
        distill_weight=1.0 if distill_weight is None or not distill else distill_weight,
        largest_block=settings.largest_block,
    )


def add_estimates(
    ws_config: StudyConfig,
    sandwich: SandwichSettings,
    task: Task,
    archs: list[Architecture],
    rows: list[dict[str, Any]],
    budget: Budget,
    estimates: list[tuple[int, int]],
    checkpoint: Path | None,
) -> dict[str, Any]:
    """Train one supernet of ``ws_config``'s space with ``sandwich`` for ``budget`` (or continue/reuse its
    ``checkpoint``) and put each architecture's estimate into its row for each (calibration batches,
    fine-tuning steps) of ``estimates`` (``estimate_c8_f0``); returns what the supernet training did."""
    training = dataclasses.replace(ws_config.training, progress=False)
    started = time.monotonic()
    outcome = train_supernet(ws_config.space, task, budget, training, sandwich=sandwich, checkpoint_to=checkpoint)
    trained = {
        "status": outcome.run.status,
        "steps": outcome.run.steps,
        "seconds": time.monotonic() - started,
        "resumed_at": outcome.resumed_at,
    }
    reused = f", {outcome.resumed_at} of them from {checkpoint}" if outcome.resumed_at else ""
    print(f"supernet: {trained['steps']} sandwich steps{reused}; {trained['seconds']:.0f} s ({trained['status']})")
    quality = ws_config.objective_names[0]
    for batches, steps in estimates:
        started = time.monotonic()
        metrics = estimate(outcome.supernet, archs, task, training, calibration_batches=batches, finetune_steps=steps)
        print(
            f"estimates, {batches} calibration batches, {steps} fine-tuning steps: {time.monotonic() - started:.0f} s"
        )
        for row, values in zip(rows, metrics, strict=True):
            row[f"estimate_c{batches}_f{steps}"] = values.get(quality, math.nan)
            # the validation loss as well: a continuous score, far less noisy than an accuracy over a few
            # hundred clips (ranked with its sign flipped: lower loss, higher rank)
            if LOSS_METRIC in values:
                row[f"loss_estimate_c{batches}_f{steps}"] = values[LOSS_METRIC]
    return trained


_STAGE_CHOICES = ("block", "channels", "num_states", "groups", "bottleneck_ratio", "state_blocks", "depth", "stride")


def choice_distance(a: Architecture, b: Architecture) -> int:
    """How many choices two architectures of one space make differently (per stage, plus the activation)."""
    differing = sum(
        getattr(x, name) != getattr(y, name) for x, y in zip(a.stages, b.stages, strict=True) for name in _STAGE_CHOICES
    )
    return differing + (a.stages[0].activation != b.stages[0].activation)


def add_ends_distance(ws_config: StudyConfig, archs: list[Architecture], rows: list[dict[str, Any]]) -> None:
    """Put into each row how many choices separate it from the nearer of the two paths the sandwich rule trains
    on every step (the largest, with the study's ``largest_block``, and the smallest): a supernet whose estimates
    follow this distance measures nearness to its most trained paths, not quality."""
    supernet = Supernet(ws_config.space)
    ends = (supernet.largest(ws_config.supernet.largest_block), supernet.smallest())
    for row, arch in zip(rows, archs, strict=True):
        row["ends_distance"] = min(choice_distance(arch, end) for end in ends)  # type: ignore[arg-type]


def _agreement(name: str, x: list[float], y: list[float]) -> dict[str, Any]:
    pairs = [(a, b) for a, b in zip(x, y, strict=True) if not (math.isnan(a) or math.isnan(b))]
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    return {
        "compared": name,
        "architectures": len(pairs),
        "kendall": kendall_tau(first, second),
        "spearman": spearman_rho(first, second),
    }


_ESTIMATE_PREFIXES = ("estimate_c", "loss_estimate_c")  # the columns add_estimates writes


def _estimate_columns(rows: list[dict[str, Any]]) -> list[tuple[str, str, list[float]]]:
    """Each estimate column as (key, label, values ranked upwards: a loss with its sign flipped)."""
    columns = []
    for key in sorted(key for key in rows[0] if key.startswith(_ESTIMATE_PREFIXES)):
        by_loss = key.startswith("loss_")
        batches, steps = key.removeprefix("loss_").removeprefix("estimate_c").split("_f")
        label = f"estimated {'validation loss' if by_loss else 'accuracy'} ({batches} calibration batches,"
        label += f" {steps} fine-tuning steps)"
        columns.append((key, label, [-row[key] if by_loss else row[key] for row in rows]))
    return columns


def agreement_table(rows: list[dict[str, Any]], seeds: list[int]) -> list[dict[str, Any]]:
    column = {f"seed {seed}": [row[f"seed{seed}"] for row in rows] for seed in seeds}
    column["seed mean"] = [statistics.fmean(row[f"seed{seed}"] for seed in seeds) for row in rows]
    table = [_agreement(f"{a} vs {b}", column[a], column[b]) for a, b in itertools.combinations(column, 2)]
    table = [row for row in table if "mean" not in row["compared"]]  # a seed against a mean holding it says little
    for _, label, estimates in _estimate_columns(rows):
        table += [_agreement(f"{label} vs {name}", estimates, values) for name, values in column.items()]
    # the yardstick any estimator has to beat: a proxy that costs nothing (more weights, more accuracy?)
    parameters = [float(row["parameters"]) for row in rows]
    table += [_agreement(f"parameter count vs {name}", parameters, values) for name, values in column.items()]
    if "ends_distance" in rows[0]:  # nearness to the sandwich's ends: against quality, and against each estimate
        nearness = [-float(row["ends_distance"]) for row in rows]
        table.append(_agreement("nearness to the sandwich ends vs seed mean", nearness, column["seed mean"]))
        for key, _, estimates in _estimate_columns(rows):
            table.append(_agreement(f"nearness to the sandwich ends vs {key}", nearness, estimates))
    return table


def markdown(table: list[dict[str, Any]]) -> str:
    lines = ["| compared | architectures | Kendall tau | Spearman rho |", "|---|---|---|---|"]
    lines += [f"| {r['compared']} | {r['architectures']} | {r['kendall']:.3f} | {r['spearman']:.3f} |" for r in table]
    return "\n".join(lines)


def spread(rows: list[dict[str, Any]], seeds: list[int]) -> str:
    """Seed-to-seed difference against the spread between architectures: the noise-to-signal of one seed."""
    differences = [abs(row[f"seed{a}"] - row[f"seed{b}"]) for row in rows for a, b in itertools.combinations(seeds, 2)]
    means = [statistics.fmean(row[f"seed{seed}"] for seed in seeds) for row in rows]
    return (
        f"accuracy: mean |seed difference| {statistics.fmean(differences):.4f};"
        f" standard deviation of the seed mean between architectures {statistics.pstdev(means):.4f}"
    )


def _with_space(config: StudyConfig, name: str | None) -> StudyConfig:
    """``config`` searching the built-in space ``name`` (its own space when ``None``)."""
    if name is None:
        return config
    if name not in space_names():
        raise SystemExit(f"--space: got {name!r}; allowed: one of {', '.join(space_names())}")
    return dataclasses.replace(config, space=builtin_space(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, default=ROOT / "studies/kws/quick.yaml", help="study: space, data, training"
    )
    parser.add_argument("--ws-config", type=Path, default=ROOT / "studies/kws/weight-sharing.yaml")
    parser.add_argument("--space", help="a built-in space instead of the configs' (e.g. kws-mel-dws: one block type)")
    parser.add_argument("--architectures", type=int, default=16)
    parser.add_argument("--seeds", default="0,1", help="training seeds, at least two")
    parser.add_argument("--budget", help="stand-alone training budget (default: the study's)")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the random architectures")
    parser.add_argument("--supernet-budget", help="also train a supernet this long and estimate (e.g. 600s)")
    parser.add_argument("--calibration", default="8", help="batch-norm calibration batches per estimate, e.g. 8,32")
    parser.add_argument("--finetune", default="0", help="fine-tuning steps per estimated path, e.g. 0,50")
    parser.add_argument(
        "--distill-weight",
        type=float,
        help="override the study's distillation: 0 none, 1 the largest path's outputs only, between: mixed",
    )
    parser.add_argument("--random-paths", type=int, help="override the study's random paths per supernet step")
    parser.add_argument(
        "--no-ends", action="store_true", help="train uniform random paths only (no largest/smallest, no distillation)"
    )
    parser.add_argument("--supernet-checkpoint", type=Path, help="keep the supernet here (a later run reuses it)")
    parser.add_argument("--reuse", type=Path, help="stand-alone rows from an earlier run's JSON")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/rank_agreement.json")
    args = parser.parse_args(argv)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise SystemExit(f"--seeds: got {args.seeds!r}; allowed: two or more distinct integers such as 0,1")
    config = _with_space(StudyConfig.load(args.config), args.space)
    budget = Budget.parse(args.budget) if args.budget else config.training_budget
    with SearchProgress(enabled=True) as progress:
        preflight.prepare_data(config, progress)
    archs = sample_architectures(config, args.architectures, args.sample_seed)
    task = make_task(config.task, config.data)
    command = sys.argv[1:] if argv is None else argv
    record: dict[str, Any] = {"argv": command, "budget": str(budget), "seeds": seeds}
    record.update(distill_weight=args.distill_weight, random_paths=args.random_paths, ends=not args.no_ends)
    if args.reuse:
        earlier = json.loads(args.reuse.read_text(encoding="utf-8"))
        derived = (*_ESTIMATE_PREFIXES, "ends_distance")  # recomputed by this run, never carried over
        rows = [{key: value for key, value in row.items() if not key.startswith(derived)} for row in earlier["rows"]]
        if [row["arch"] for row in rows] != [arch.id for arch in archs]:
            raise SystemExit(f"--reuse: {args.reuse} holds other architectures; allowed: a run with the same sampling")
        record["budget"] = earlier["budget"]
    else:
        rows = train_standalone(config, task, archs, seeds, budget)
    for row, arch in zip(rows, archs, strict=True):
        row["parameters"] = score(arch, batch=config.cost.batch).params
    if args.supernet_budget:
        ws_config = _with_space(StudyConfig.load(args.ws_config), args.space)
        sandwich = sandwich_settings(ws_config, args.distill_weight, args.random_paths, not args.no_ends)
        add_ends_distance(ws_config, archs, rows)
        settings = [
            (int(batches), int(steps)) for batches in args.calibration.split(",") for steps in args.finetune.split(",")
        ]
        supernet_budget = Budget.parse(args.supernet_budget)
        record["supernet"] = add_estimates(
            ws_config, sandwich, task, archs, rows, supernet_budget, settings, args.supernet_checkpoint
        )
    table = agreement_table(rows, seeds)
    noise = spread(rows, seeds)
    print(markdown(table))
    print(noise)
    record.update(rows=rows, agreement=table, spread=noise)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
