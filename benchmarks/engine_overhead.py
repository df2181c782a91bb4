"""What the search engine itself costs, and how throughput scales with Ray workers.

1. Per-trial overhead on empty trials: the full driver loop (ask, sample, cost model, constraint
   check, Ray submit, collect, tell, attributes written to SQLite) with a trial function that
   returns at once; plus each phase timed alone over the same number of trials.
2. Throughput on real ~5 s trials (4 s of training of a ``kws-dws`` architecture on the synthetic
   KWS corpus, then evaluation on 64 clips) with 1 and then 2 concurrent workers, side by side.

    python benchmarks/engine_overhead.py [--trials 40] [--real-trials 8] [--data data/kws-quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import ray

from nas.cost import score
from nas.study import RayBackend, StudyConfig, TrialRequest, run_study
from nas.tasks import Budget, TaskResult, TrainingConfig, TrainingRun
from search_spaces import Architecture, builtin_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def empty_trial(request: TrialRequest) -> TaskResult:
    """A trial that trains nothing: the engine's overhead is all that is left to time."""
    return TaskResult(
        task=request.task,
        status="completed",
        reason=None,
        metrics={"accuracy": 0.5},
        training=TrainingRun("completed", None, steps=0, epochs=0.0, seconds=0.0, curve=()),
        eval_seconds=0.0,
        parameters=0,
        seed=0,
        budget=str(request.budget),
    )


def _request(arch: Architecture) -> TrialRequest:
    """A request as the driver sends it (what Ray pickles per trial)."""
    budget = Budget.parse("1s")
    return TrialRequest(0, 0, 0, "kws", "data", arch, budget, budget, TrainingConfig(progress=False))


def _config(folder: Path, data: Path, trials: int, concurrent: int, budget: str, space: str = "kws") -> StudyConfig:
    """``batch_size`` 8 and 64 evaluation clips keep a real trial near its training budget: the budget
    is checked between steps, and a wide architecture's step takes seconds on one core."""
    return StudyConfig.from_dict(
        {
            "name": f"bench-{concurrent}",
            "task": "kws",
            "data": str(data),
            "space": space,
            "objectives": {"accuracy": "maximize", "train_flops": "minimize"},
            "budget": {"trials": trials},
            "training": {"budget": budget, "batch_size": 8, "max_eval_items": 64},
            "sampler": {"name": "nsga2", "seed": 0, "options": {"population_size": 8}},
            "resources": {"cpus": 1, "max_concurrent": concurrent},
            "keep_weights": False,
            "output": str(folder),
        }
    )


def _phases(trials: int) -> dict[str, float]:
    """Each step of a trial's life in the driver, timed alone (median milliseconds)."""
    with tempfile.TemporaryDirectory() as folder:
        storage = f"sqlite:///{folder}/phases.db"
        study = optuna.create_study(storage=storage, directions=["maximize", "minimize"], study_name="p")
        space = builtin_space("kws")
        remote = ray.remote(empty_trial)
        times: dict[str, list[float]] = {"ask + sample": [], "cost model": [], "Ray submit + get": [], "tell": []}
        for _ in range(trials):
            start = time.perf_counter()
            trial = study.ask()
            arch = space.sample(trial)
            trial.set_user_attr("arch", arch.to_dict())
            times["ask + sample"].append(time.perf_counter() - start)
            start = time.perf_counter()
            cost = score(arch, 16).objectives()
            times["cost model"].append(time.perf_counter() - start)
            start = time.perf_counter()
            ray.get(remote.remote(_request(arch)))
            times["Ray submit + get"].append(time.perf_counter() - start)
            start = time.perf_counter()
            study.tell(trial, [0.5, cost["train_flops"]])
            times["tell"].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40, help="empty trials per run")
    parser.add_argument("--real-trials", type=int, default=8, help="~5 s trials per worker count")
    parser.add_argument("--data", default="data/kws-quick", help="KWS corpus (generated if missing)")
    args = parser.parse_args()

    data = Path(args.data)
    if not data.exists():
        from nas.data.synth import generate_corpus

        generate_corpus("kws", data, per_word=30, speakers=24)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    warm = builtin_space("kws").random(random.Random(0))
    ray.get(ray.remote(empty_trial).remote(_request(warm)))  # warm a worker

    print(f"engine overhead per trial, {args.trials} empty trials (median of each phase alone, ms):")
    for name, milliseconds in _phases(args.trials).items():
        print(f"  {name:<20} {milliseconds:8.1f}")
    print(f"\n{'workers':>8} {'trials':>7} {'wall s':>8} {'per trial s':>12}  kind")
    for concurrent in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            config = _config(Path(folder), data, args.trials, concurrent, "1s")
            start = time.perf_counter()
            run_study(config, backend=RayBackend(config, trial_function=empty_trial))
            wall = time.perf_counter() - start
        print(f"{concurrent:>8} {args.trials:>7} {wall:>8.1f} {wall / args.trials:>12.3f}  empty trials (whole loop)")
    for concurrent in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            config = _config(Path(folder), data, args.real_trials, concurrent, "4s", space="kws-dws")
            start = time.perf_counter()
            outcome = run_study(config)
            wall = time.perf_counter() - start
        rate = 60 * args.real_trials / wall
        print(
            f"{concurrent:>8} {args.real_trials:>7} {wall:>8.1f} {wall / args.real_trials:>12.2f}  4 s training"
            f" (kws-dws) + evaluation on 64 clips: {rate:.1f} trials/min, {outcome.training_seconds:.0f} s trained"
        )
    ray.shutdown()


if __name__ == "__main__":
    main()
