"""Does successive halving on Pareto rank reach the full-fidelity search's hypervolume for less training?

Two searches of the same space with the same sampler seed, on the synthetic KWS corpus, side by
side in one run on a local Ray instance (2 workers):

- full fidelity: every trial trains the whole budget;
- multi-fidelity: trials train ``min_fraction`` of it first and the best ``1/eta`` by Pareto rank
  are promoted (``nas.study.scheduler``).

Both are scored by the hypervolume of their full-fidelity results against one declared reference
point (accuracy 0, the space's largest training FLOPs), and by total training seconds.

    python benchmarks/multi_fidelity.py [--budget 40s] [--trials 12] [--seeds 0 1] [--data data/kws-quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import ray

from nas.pareto import hypervolume
from nas.study import StudyConfig, run_study
from nas.study.summary import complete_values
from search_spaces import builtin_space

optuna.logging.set_verbosity(optuna.logging.WARNING)
REFERENCE = {"accuracy": 0.0, "train_flops": 40e9}


def _space() -> dict:
    """The built-in KWS space with batch norm only: per-step LayerNorm does not learn raw audio in
    short budgets (README), and trials stuck at chance would only add noise to the comparison."""
    space = builtin_space("kws").to_dict()
    for stage in space["stages"]:
        stage["norm"] = ["batch"]
    space["shared"] = [name for name in space.get("shared", []) if name != "norm"]
    return space


def _run(folder: Path, data: Path, seed: int, trials: int, budget: str, fidelity: dict) -> dict[str, float]:
    config = StudyConfig.from_dict(
        {
            "name": "mf" if fidelity else "full",
            "task": "kws",
            "data": str(data),
            "space": _space(),
            "objectives": {"accuracy": "maximize", "train_flops": "minimize"},
            "reference": REFERENCE,
            "budget": {"trials": trials},
            "training": {"budget": budget, "batch_size": 16},
            "sampler": {"name": "nsga2", "seed": seed, "options": {"population_size": 6}},
            "fidelity": fidelity or {"min_fraction": 1.0},
            "resources": {"cpus": 1},
            "keep_weights": False,
            "output": str(folder),
        }
    )
    start = time.perf_counter()
    outcome = run_study(config)
    wall = time.perf_counter() - start
    values = complete_values(optuna.load_study(study_name=config.name, storage=config.storage_url))
    reference = np.array([REFERENCE["accuracy"], REFERENCE["train_flops"]])
    volume = hypervolume(values, reference, ["maximize", "minimize"]) if len(values) else 0.0
    return {
        "complete": outcome.complete,
        "pruned": outcome.pruned,
        "training_s": outcome.training_seconds,
        "wall_s": wall,
        "hypervolume": volume,
        "best_accuracy": float(values[:, 0].max()) if len(values) else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="40s", help="full training budget per trial")
    parser.add_argument("--trials", type=int, default=12, help="architectures per search")
    parser.add_argument("--min-fraction", type=float, default=1 / 3)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--data", default="data/kws-quick")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()

    data = Path(args.data)
    if not data.exists():
        from nas.data.synth import generate_corpus

        generate_corpus("kws", data, per_word=30, speakers=24)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    rows = []
    header = ("search", "seed", "full-fid.", "pruned", "train s", "wall s", "HV", "best acc")
    print("{:<16} {:>4} {:>9} {:>6} {:>8} {:>7} {:>10} {:>8}".format(*header))
    for seed in args.seeds:
        for name, fidelity in (
            ("full fidelity", {}),
            ("multi-fidelity", {"min_fraction": args.min_fraction, "eta": args.eta}),
        ):
            with tempfile.TemporaryDirectory() as folder:
                row = {
                    "search": name,
                    "seed": seed,
                    **_run(Path(folder), data, seed, args.trials, args.budget, fidelity),
                }
            rows.append(row)
            print(
                f"{name:<16} {seed:>4} {row['complete']:>9} {row['pruned']:>6} {row['training_s']:>8.0f}"
                f" {row['wall_s']:>7.0f} {row['hypervolume']:>10.4g} {row['best_accuracy']:>8.3f}"
            )
    ray.shutdown()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
