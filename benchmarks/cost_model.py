"""How right and how fast is the cost model? Predictions against measured training steps.

For random architectures of every built-in space this compares, per architecture:

* predicted vs measured matmul FLOPs (FlopCounterMode convention), FFT FLOPs (every FFT call
  recorded) and saved-activation bytes (autograd's saved tensors, each storage once): error
  percentiles;
* the predicted training-step cost against the measured step time on this CPU: Spearman rank
  correlation. The predicted cost is the planner's time model (contraction FLOPs + fft_weight x
  FFT FLOPs + byte_weight x bytes moved, summed over SSM layers) plus the other layers' FLOPs;
  raw training FLOPs are reported too;
* scoring throughput: architectures per second on one core, with a cold plan cache (every layer
  shape planned for the first time) and in steady state (a search revisits layer shapes).

    python benchmarks/cost_model.py --per-space 50
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import torch

from centaurus.networks import build
from centaurus.planning import DEFAULT_COSTS, PlannerCost, clear_plan_cache
from nas.cost import measure_training_step
from nas.cost.conventions import flop_counter_flops
from nas.cost.model import CostReport, score
from nas.pareto import spearman_rho
from search_spaces import BUILTIN_SPACES, builtin_space

_FEATURES = ("real", "view", "complex", "rfft", "irfft", "bytes", "steps")


def step_features(report: CostReport) -> dict[str, float]:
    """The planner's work-by-kind features summed over the network (non-SSM layers as real work)."""
    totals = dict.fromkeys(_FEATURES, 0.0)
    for row in report.layers:
        if row.plan is not None:
            for name, value in row.plan.cost_features.items():
                totals[name] += value
            totals["real"] += row.elementwise_flops
        else:
            totals["real"] += row.train_flops
            totals["bytes"] += 3 * row.workspace_bytes
            totals["steps"] += 1
    return totals


def predicted_step_cost(features: dict[str, float], cost: PlannerCost) -> float:
    """The planner's time model applied to a whole training step."""
    return cost.predict(features)


def _percentiles(errors: list[float]) -> str:
    ordered = sorted(abs(e) for e in errors)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return f"{100 * pick(0.5):.2f}% / {100 * pick(0.9):.2f}% / {100 * ordered[-1]:.2f}%"


def _time_step(network: torch.nn.Module, audio: torch.Tensor, repeats: int) -> float:
    def step() -> None:
        network.zero_grad(set_to_none=True)
        network(audio).square().mean().backward()

    step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return min(samples)


def accuracy(args: argparse.Namespace) -> None:
    rows: list[dict[str, float]] = []
    for name in args.spaces:
        space = builtin_space(name)
        rng = random.Random(args.seed)
        for _ in range(args.per_space):
            arch = space.random(rng)
            stride = arch.total_stride
            length = stride * max(1, round(args.length / stride))
            report = score(arch, args.batch, length)
            torch.manual_seed(0)
            network = build(arch)
            audio = torch.randn(args.batch, arch.input.channels, length)
            measured = measure_training_step(network, audio, track_peak=False)
            seconds = math.nan if args.no_timing else _time_step(network, audio, args.repeats)
            rows.append(
                {
                    "space": name,
                    "flops_error": flop_counter_flops(report) / measured.matmul_flops - 1,
                    "fft_error": report.fft_flops / measured.fft_flops - 1 if measured.fft_flops else 0.0,
                    "saved_error": report.activation_bytes / measured.saved_bytes - 1,
                    **step_features(report),
                    "train_flops": float(report.train_flops),
                    "seconds": seconds,
                }
            )
        print(f"{name:<14} done", flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=1))
        print(f"per-architecture rows written to {args.json}")
    summarise(rows, args)


def summarise(rows: list[dict[str, float]], args: argparse.Namespace) -> None:
    print(f"\nbatch {args.batch}, length ~{args.length}, {len(rows)} architectures, {args.threads} thread(s)")
    print("| quantity | median / p90 / max abs error |")
    print("|---|---|")
    print(f"| matmul FLOPs (FlopCounterMode) | {_percentiles([r['flops_error'] for r in rows])} |")
    print(f"| FFT FLOPs (recorded FFT calls) | {_percentiles([r['fft_error'] for r in rows])} |")
    print(f"| saved activation bytes (autograd) | {_percentiles([r['saved_error'] for r in rows])} |")
    rows = [r for r in rows if not math.isnan(r["seconds"])]
    if not rows:
        return
    seconds = [r["seconds"] for r in rows]
    model = DEFAULT_COSTS["cpu"]
    predicted = [predicted_step_cost(r, model) for r in rows]  # type: ignore[arg-type]
    print(
        f"\nSpearman rank correlation with the measured step time ({len(rows)} timed architectures):"
        f" planner time model {spearman_rho(predicted, seconds):.3f},"
        f" raw training FLOPs {spearman_rho([r['train_flops'] for r in rows], seconds):.3f}"
    )


def throughput(args: argparse.Namespace) -> None:
    space = builtin_space("kws")
    rng = random.Random(args.seed + 1)
    archs = [space.random(rng) for _ in range(args.throughput_archs)]
    clear_plan_cache()
    start = time.perf_counter()
    for arch in archs:
        score(arch, 32, 16000)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for arch in archs:
        score(arch, 32, 16000)
    warm = time.perf_counter() - start
    print(
        f"\nscoring the kws space at batch 32, length 16000, one thread: {len(archs) / cold:.0f} arch/s with a cold"
        f" plan cache (first pass over {len(archs)} random architectures), {len(archs) / warm:.0f} arch/s steady state"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spaces", nargs="+", default=list(BUILTIN_SPACES))
    parser.add_argument("--per-space", type=int, default=50)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=4000, help="input samples (rounded to the total stride)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per architecture (min)")
    parser.add_argument("--throughput-archs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-timing", action="store_true", help="check FLOPs and bytes only (no step times)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--json", help="write per-architecture rows here (with --summary-only: read them, comma-separated files)"
    )
    parser.add_argument("--summary-only", action="store_true", help="summarise the rows in --json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.summary_only:
        rows = [row for path in args.json.split(",") for row in json.loads(Path(path).read_text())]
        summarise(rows, args)
        return 0
    if not args.skip_throughput:
        throughput(args)
    accuracy(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
