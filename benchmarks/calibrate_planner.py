"""Fit the planner's cost weights (FFT constant, memory traffic) to measured plan timings.

FLOPs alone mispredict time: an FFT runs at a fraction of a matmul's FLOP rate, and elementwise
products of spectra are bound by memory bandwidth. The planner scores a plan as
``contraction FLOPs + fft_weight * FFT FLOPs + byte_weight * bytes moved``. This script times the
plausible candidates of every shape of a calibration grid (deliberately not the benchmark's grid,
so ``benchmarks/contraction_plans.py`` validates the fit out of sample), then picks the weights
whose choices are most often within 5% of the fastest measured plan.

    python benchmarks/calibrate_planner.py --threads 1 --json benchmarks/results/planner_calibration_cpu.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

from centaurus import SSMLayer
from centaurus.modes import EXPRESSIONS
from centaurus.planning import ContractionPlan, PlannerCost, plan_score

FFT_WEIGHTS = (1.0, 2.0, 3.0, 5.0, 8.0, 12.0)
BYTE_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
GRID = {
    "batch": (2, 16),
    "channels": ((16, 16), (16, 128), (128, 16), (128, 128)),
    "states": (32, 128),
    "length": (2000, 6000),
}


def _extras(mode: str, c: int) -> dict[str, int]:
    return {"neck": {"bottleneck": max(1, c // 4)}, "group": {"groups": 4}}.get(mode, {})


def _median_ms(layer: SSMLayer, u: torch.Tensor, kernel: torch.Tensor, plan: ContractionPlan, repeats: int) -> float:
    def step() -> None:
        out = layer.contract(u, kernel, plan)
        out.backward(torch.ones_like(out))

    step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def measure(args: argparse.Namespace) -> list[dict[str, object]]:
    weights = [PlannerCost(f, b) for f, b in itertools.product(FFT_WEIGHTS, BYTE_WEIGHTS)]
    records: list[dict[str, object]] = []
    for mode in args.modes:
        for batch, (c, d), n, length in itertools.product(
            GRID["batch"], GRID["channels"], GRID["states"], GRID["length"]
        ):
            torch.manual_seed(0)
            layer = SSMLayer(c, d, n, mode, **_extras(mode, c))  # type: ignore[arg-type]
            plans = [plan for plan in layer.candidate_plans(batch, length) if plan.spectra == "recompute"]
            if min(plan.training_flops for plan in plans) > args.max_gflop * 1e9:
                continue
            if math.prod(layer.a_re.shape) * length * 4 * 3 > args.max_bytes:
                continue
            contenders: dict[str, ContractionPlan] = {}
            for cost in weights:
                for plan in sorted(plans, key=lambda plan, cost=cost: plan_score(plan, cost))[:2]:
                    contenders[plan.key] = plan
            u = torch.randn(batch, c, length, requires_grad=True)
            kernel = layer.kernel(length).detach().requires_grad_(True)
            timed = []
            for plan in contenders.values():
                timed.append(
                    {
                        "key": plan.key,
                        "ms": _median_ms(layer, u, kernel, plan, args.repeats),
                        "contraction_flops": plan.contraction_flops,
                        "fft_flops": plan.fft_flops,
                        "traffic_bytes": plan.traffic_bytes,
                        "largest_bytes": plan.largest_intermediate_bytes,
                    }
                )
            records.append({"mode": mode, "batch": batch, "c": c, "d": d, "n": n, "length": length, "plans": timed})
            print(f"{mode:<6} b={batch:<3} c={c:<4} d={d:<4} n={n:<4} L={length:<5} timed {len(timed)}", flush=True)
    return records


def evaluate(records: list[dict[str, object]], cost: PlannerCost) -> tuple[float, float]:
    """(share of shapes whose pick is within 5% of the fastest, geo-mean pick/fastest time)."""
    within, ratios = 0, []
    for record in records:
        plans = record["plans"]  # type: ignore[assignment]
        best = min(plan["ms"] for plan in plans)  # type: ignore[index]
        pick = min(
            plans,  # type: ignore[arg-type]
            key=lambda plan: (
                plan["contraction_flops"]
                + cost.fft_weight * plan["fft_flops"]
                + cost.byte_weight * plan["traffic_bytes"],
                plan["largest_bytes"],
            ),
        )
        within += pick["ms"] <= 1.05 * best
        ratios.append(pick["ms"] / best)
    return within / len(records), math.exp(statistics.fmean(math.log(r) for r in ratios))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=list(EXPRESSIONS), choices=list(EXPRESSIONS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-gflop", type=float, default=0.6)
    parser.add_argument("--max-bytes", type=float, default=3e9)
    parser.add_argument("--json", type=Path, help="write (or, with --fit-only, read) the measurements")
    parser.add_argument("--fit-only", action="store_true", help="fit weights to the measurements in --json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.fit_only:
        records = json.loads(args.json.read_text())
    else:
        records = measure(args)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(records, indent=1))
            print(f"measurements written to {args.json}")
    print(f"\n{len(records)} shapes; share of picks within 5% of the fastest (geo-mean slowdown):")
    print("fft_weight \\ byte_weight " + " ".join(f"{b:>13g}" for b in BYTE_WEIGHTS))
    scores = {}
    for fft_weight in FFT_WEIGHTS:
        cells = []
        for byte_weight in BYTE_WEIGHTS:
            share, slowdown = evaluate(records, PlannerCost(fft_weight, byte_weight))
            scores[(fft_weight, byte_weight)] = (share, -slowdown)
            cells.append(f"{100 * share:5.1f}% ({slowdown:.2f})")
        print(f"{fft_weight:>25g} " + " ".join(f"{cell:>13}" for cell in cells))
    best = max(scores, key=scores.__getitem__)
    print(f"\nbest: PlannerCost(fft_weight={best[0]:g}, byte_weight={best[1]:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
