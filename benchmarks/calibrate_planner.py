"""Fit the planner's time model to measured plan timings on this machine.

The planner scores a plan by a linear model over the work of a training step (see
``centaurus.planning.PlannerCost``): FLOPs of real, real-view and complex contractions, forward
and inverse FFT FLOPs, bytes moved and operations launched. This script times a spread of
candidate plans (the FLOPs-only favourites, the favourites of deliberately skewed models and a few
random ones) for every shape of a calibration grid, deliberately not the benchmark's grid, so that
``benchmarks/contraction_plans.py`` validates the fit out of sample. The weights are chosen on a
coarse grid to maximise the share of shapes whose pick is within 5% of the fastest timed plan (a
least-squares fit of time itself explained the timings poorly: median relative error 31%, the
machine being mostly memory-bound), in FLOP-equivalents of a real contraction.

    python benchmarks/calibrate_planner.py --threads 1 --json benchmarks/results/planner_calibration_cpu.json
    python benchmarks/calibrate_planner.py --device cuda --max-gflop 20 \
        --json benchmarks/results/planner_calibration_cuda.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
from pathlib import Path

import torch

from centaurus import SSMLayer
from centaurus.modes import EXPRESSIONS
from centaurus.planning import FLOPS_ONLY, ContractionPlan, PlannerCost, plan_score

FEATURES = ("real", "view", "complex", "rfft", "irfft", "bytes", "steps")
# Two sub-grids: wide shapes, and small ones (batch 2-4, narrow channels, short signals), where a
# step takes a millisecond or two and fixed costs decide. Every shape differs from every shape of
# benchmarks/contraction_plans.py's grid (its lengths are 1000 and 16000), so that benchmark
# validates the fit out of sample.
GRIDS: tuple[dict[str, tuple], ...] = (
    {
        "batch": (2, 16, 32),
        "channels": ((16, 16), (16, 128), (128, 16), (128, 128)),
        "states": (32, 128),
        "length": (2000, 6000),
    },
    {
        "batch": (2, 4),
        "channels": ((8, 32), (32, 8), (16, 16)),
        "states": (16, 32),
        "length": (1200,),
    },
)
_SKEWED = (
    FLOPS_ONLY,
    PlannerCost(byte_weight=30.0),
    PlannerCost(rfft_weight=4.0, irfft_weight=1.0),
    PlannerCost(view_weight=3.0),
    PlannerCost(complex_weight=4.0),
    PlannerCost(step_weight=3e6),
)


def _extras(mode: str, c: int) -> dict[str, int]:
    return {"neck": {"bottleneck": max(1, c // 4)}, "group": {"groups": 4}}.get(mode, {})


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_interleaved(layer: SSMLayer, u: torch.Tensor, plans: list[ContractionPlan], rounds: int) -> list[float]:
    """Fastest seconds of a training step under each plan (the layer as it runs: kernel from the poles)."""
    device = u.device

    def step(plan: ContractionPlan) -> None:
        out = layer(u, plan=plan)
        out.backward(torch.ones_like(out))

    for plan in plans:
        step(plan)
    best = [math.inf] * len(plans)
    for _ in range(rounds):
        for position, plan in enumerate(plans):
            _sync(device)
            start = time.perf_counter()
            step(plan)
            _sync(device)
            best[position] = min(best[position], time.perf_counter() - start)
    return best


def measure(args: argparse.Namespace) -> list[dict[str, object]]:
    rng = random.Random(0)
    records: list[dict[str, object]] = []
    for mode in args.modes:
        shapes = itertools.chain.from_iterable(
            itertools.product(grid["batch"], grid["channels"], grid["states"], grid["length"]) for grid in GRIDS
        )
        for batch, (c, d), n, length in shapes:
            torch.manual_seed(0)
            layer = SSMLayer(c, d, n, mode, device=args.device, **_extras(mode, c))  # type: ignore[arg-type]
            plans = [
                plan
                for plan in layer.candidate_plans(batch, length)
                if plan.spectra == "recompute" and 4 * plan.largest_intermediate_bytes <= args.max_bytes
            ]
            if not plans:
                continue
            if min(plan.training_flops for plan in plans) > args.max_gflop * 1e9:
                continue
            if math.prod(layer.a_re.shape) * length * 4 * 3 > args.max_bytes:
                continue
            contenders: dict[str, ContractionPlan] = {}
            for cost in _SKEWED:
                ranked = sorted(plans, key=lambda plan, cost=cost: plan_score(plan, cost))
                for plan in ranked[: 4 if cost is FLOPS_ONLY else 2]:
                    contenders[plan.key] = plan
            cheapest = plan_score(min(plans, key=lambda plan: plan_score(plan, FLOPS_ONLY)), FLOPS_ONLY)[0]
            plausible = [plan for plan in plans if plan_score(plan, FLOPS_ONLY)[0] < 4 * cheapest]
            for plan in rng.sample(plausible, min(3, len(plausible))):
                contenders[plan.key] = plan
            u = torch.randn(batch, c, length, device=args.device, requires_grad=True)
            chosen = list(contenders.values())
            try:
                seconds = _time_interleaved(layer, u, chosen, args.rounds)
            except torch.OutOfMemoryError:
                print(f"{mode:<6} b={batch:<3} c={c:<4} d={d:<4} n={n:<4} L={length:<5} out of memory: left out")
                continue
            records.append(
                {
                    "mode": mode, "batch": batch, "c": c, "d": d, "n": n, "length": length,
                    "plans": [
                        {"key": plan.key, "seconds": s, "largest_bytes": plan.largest_intermediate_bytes,
                         **plan.cost_features}
                        for plan, s in zip(chosen, seconds, strict=True)
                    ],
                }
            )  # fmt: skip
            print(f"{mode:<6} b={batch:<3} c={c:<4} d={d:<4} n={n:<4} L={length:<5} timed {len(chosen)}", flush=True)
            if args.json:  # after every shape: a run cut short keeps what it measured
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(records, indent=1))
    return records


_GRID_WEIGHTS = {
    "view_weight": (1.0, 2.0, 4.0),
    "complex_weight": (1.0, 2.0, 4.0, 8.0),
    "rfft_weight": (1.0, 2.0, 4.0, 8.0),
    "irfft_weight": (0.5, 1.0, 2.0, 4.0),
    "byte_weight": (0.0, 4.0, 16.0, 64.0),
    "step_weight": (0.0, 1e5, 1e6),
}


def fit(records: list[dict[str, object]]) -> PlannerCost:
    """The weights (on a coarse grid, so as not to overfit) whose picks are most often within 5% of
    the fastest timed plan, ties broken by the smaller geo-mean slowdown."""
    best: tuple[tuple[float, float], PlannerCost] | None = None
    for values in itertools.product(*_GRID_WEIGHTS.values()):
        cost = PlannerCost(**dict(zip(_GRID_WEIGHTS, values, strict=True)))
        share, slowdown = evaluate(records, cost)
        if best is None or (share, -slowdown) > best[0]:
            best = ((share, -slowdown), cost)
    assert best is not None
    return best[1]


def evaluate(records: list[dict[str, object]], cost: PlannerCost) -> tuple[float, float]:
    """(share of shapes whose pick is within 5% of the fastest timed plan, geo-mean pick/fastest)."""
    within, ratios = 0, []
    for record in records:
        plans = record["plans"]  # type: ignore[assignment]
        best = min(plan["seconds"] for plan in plans)  # type: ignore[index]
        pick = min(plans, key=lambda plan: (cost.predict(plan), plan["largest_bytes"]))  # type: ignore[arg-type]
        within += pick["seconds"] <= 1.05 * best
        ratios.append(pick["seconds"] / best)
    return within / len(records), math.exp(sum(math.log(r) for r in ratios) / len(ratios))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=list(EXPRESSIONS), choices=list(EXPRESSIONS))
    parser.add_argument("--device", default="cpu", help="cpu or cuda (fits that device type's weights)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per shape (min)")
    parser.add_argument("--max-gflop", type=float, default=0.6)
    parser.add_argument("--max-bytes", type=float, default=3e9)
    parser.add_argument("--json", type=Path, help="write (or, with --fit-only, read) the measurements")
    parser.add_argument("--fit-only", action="store_true", help="fit the measurements already in --json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.fit_only:
        records = json.loads(args.json.read_text())
    else:
        records = measure(args)
        if args.json:
            print(f"measurements written to {args.json}")
    if not records:
        parser.error("no shape of the calibration grid is under --max-gflop and --max-bytes: raise them")
    fitted = fit(records)
    print(f"\n{len(records)} shapes, {sum(len(r['plans']) for r in records)} timed plans")  # type: ignore[arg-type]
    for label, cost in (("FLOPs only", FLOPS_ONLY), ("fitted", fitted)):
        share, slowdown = evaluate(records, cost)
        print(f"{label:<10} picks within 5% of the fastest: {100 * share:.1f}%  (geo-mean slowdown {slowdown:.3f})")
    print(f"\nfitted: {fitted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
