"""Does the planner pick the fastest contraction plan? Measured forward+backward, side by side.

For every shape of a grid per mode this times one training step (forward + backward, input and
every parameter requiring grad) of the contraction under:

* the plan the layer chooses (``layer.plan``);
* every forced alternative whose predicted cost is within ``--window`` times the chosen plan's
  (the others are predicted far slower; the table says how many were skipped);
* for s5/neck, the order picked by the published rule "kernel first iff 1/c + 1/d > 1/b + 1/n"
  (r in place of n for neck), given its best FFT placement;
* opt_einsum's FFT-blind ``dp`` tree, given its best FFT placement;
* a naive single ``torch.einsum`` of the whole Fourier-domain expression (spectra of u and K, weights
  cast to complex, plain autograd), where its intermediates fit in memory.

Each plan runs as the layer runs it (``layer(u, plan=...)``: the kernel generated from the poles,
in factored form where the plan contracts it with a weight); only the naive einsum is given the
materialised kernel, as plain code would build it. Shapes whose tensors would not fit the memory
cap, or whose chosen plan exceeds the compute cap, are trimmed and counted. Run ``python
benchmarks/contraction_plans.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import opt_einsum
import torch
from calibrate_planner import fit  # beside this script (on sys.path when run)
from csv_rows import CsvRows, LayerShape  # beside this script (on sys.path when run)

from centaurus import SSMLayer
from centaurus.modes import EXPRESSIONS, FREQ, TIME, layer_sizes
from centaurus.planning import (
    DEFAULT_COSTS,
    FLOPS_ONLY,
    ContractionPlan,
    PlannerCost,
    best_plan_for_tree,
    choose_plan,
    opt_einsum_tree,
    plan_score,
)

FULL_GRID = {
    "batch": (1, 8, 32),
    "channels": (8, 64, 256),
    "states": (16, 64, 256),
    "length": (1000, 16000),
}
QUICK_GRID = {"batch": (1, 8), "channels": (8, 32), "states": (16, 64), "length": (1000,)}


@dataclass
class ShapeResult(LayerShape):
    chosen: str
    chosen_ms: float
    fastest: str
    fastest_ms: float
    runner_up: str
    runner_up_ms: float
    timed: int
    skipped: int
    flops_only: str
    flops_only_ms: float
    rule: str
    rule_ms: float
    blind: str
    blind_ms: float
    naive_ms: float
    chosen_gflop: float

    @property
    def within_5_percent(self) -> bool:
        return self.chosen_ms <= 1.05 * self.fastest_ms


def _layer_extras(mode: str, channels_in: int, channels_out: int, states: int) -> dict[str, int] | None:
    if mode == "neck":
        return {"bottleneck": max(1, channels_in // 4)}  # r = 0.25 x channels, the spec's typical ratio
    if mode == "group":
        groups = 4
        if channels_in % groups or channels_out % groups:
            return None
        return {"groups": groups}
    return {}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _time(step: Callable[[], None], device: torch.device, repeats: int) -> float:
    step()  # warm-up (plan caches, allocator, FFT plans)
    samples = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        step()
        _sync(device)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def _time_interleaved(
    layer: SSMLayer,
    u: torch.Tensor,
    plans: dict[str, ContractionPlan],
    device: torch.device,
    rounds: int,
) -> dict[str, float]:
    """Fastest ms of each plan over ``rounds`` rounds that run every plan once, in turn.

    The minimum is the estimate least disturbed by other work on a shared machine; interleaving
    makes slow phases of the machine hit every contender alike.
    """
    steps = {key: _plan_step(layer, u, plan) for key, plan in plans.items()}
    samples: dict[str, list[float]] = {key: [] for key in steps}
    for step in steps.values():
        step()  # warm-up
    for _ in range(rounds):
        for key, step in steps.items():
            _sync(device)
            start = time.perf_counter()
            step()
            _sync(device)
            samples[key].append(time.perf_counter() - start)
    return {key: min(values) * 1e3 for key, values in samples.items()}


def _plan_step(layer: SSMLayer, u: torch.Tensor, plan: ContractionPlan) -> Callable[[], None]:
    """A training step of the layer as it runs (kernel from the poles, every parameter learning)."""

    def step() -> None:
        output = layer(u, plan=plan)
        output.backward(torch.ones_like(output))

    return step


def _naive_step(layer: SSMLayer, u: torch.Tensor, kernel: torch.Tensor) -> Callable[[], None]:
    expression = layer.expression
    length = u.shape[-1]
    equation = expression.equation.replace(TIME, FREQ)

    def step() -> None:
        spectra = {
            "u": torch.fft.rfft(layer.operands(u, kernel)["u"], n=2 * length),
            "K": torch.fft.rfft(kernel, n=2 * length),
        }
        tensors = [
            spectra[op.name] if op.name in spectra else getattr(layer, op.name).to(spectra["u"].dtype)
            for op in expression.operands
        ]
        output = torch.fft.irfft(torch.einsum(equation, *tensors), n=2 * length)[..., :length]
        output.backward(torch.ones_like(output))

    return step


def _naive_cost(layer: SSMLayer, batch: int, length: int) -> tuple[float, float]:
    """Bytes (a few complex64 copies of the largest intermediate) and training FLOPs of the naive einsum."""
    sizes = {**layer.sizes, "b": batch, FREQ: length + 1}
    shapes = [tuple(sizes[i] for i in op.indices.replace(TIME, FREQ)) for op in layer.expression.operands]
    _, info = opt_einsum.contract_path(layer.expression.equation.replace(TIME, FREQ), *shapes, shapes=True)
    return float(info.largest_intermediate) * 8 * 4, float(info.opt_cost) * 4 * 3


def _rule_family(plan: ContractionPlan, kernel_first: bool) -> bool:
    """Kernel first: u joins last, against the whole effective kernel. Project first: u meets B first."""
    if kernel_first:
        return plan.tree.startswith("u,(")
    return "(u,B)" in plan.tree or plan.tree.startswith("u,B")


def _rule_plan(layer: SSMLayer, batch: int, length: int, cost: PlannerCost, spectra: str) -> ContractionPlan | None:
    if layer.mode not in ("s5", "neck"):
        return None
    states = layer.sizes["n"] if layer.mode == "s5" else layer.sizes["r"]
    kernel_first = 1 / layer.in_channels + 1 / layer.out_channels > 1 / batch + 1 / states
    family = [
        plan
        for plan in layer.candidate_plans(batch, length)
        if plan.spectra == spectra and _rule_family(plan, kernel_first)
    ]
    return min(family, key=lambda plan: plan_score(plan, cost))


def _shapes(grid: dict[str, tuple[int, ...]], square: bool) -> Iterator[tuple[int, int, int, int, int]]:
    for batch, c, d, n, length in itertools.product(
        grid["batch"], grid["channels"], grid["channels"], grid["states"], grid["length"]
    ):
        if not square or c == d:
            yield batch, c, d, n, length


def _predicted_flops(mode: str, batch: int, c: int, d: int, n: int, length: int) -> float:
    extras = _layer_extras(mode, c, d, n)
    if extras is None:
        return 0.0
    sizes = layer_sizes(mode, c, d, n, groups=extras.get("groups", 1), bottleneck=extras.get("bottleneck", 1))  # type: ignore[arg-type]
    return float(choose_plan(mode, sizes, batch, length).training_flops)


def _peak_bytes(plan: ContractionPlan) -> int:
    inputs = sum(spec.nbytes for spec in plan.inputs)
    return inputs * 2 + plan.saved_bytes + 3 * plan.largest_intermediate_bytes


def run(args: argparse.Namespace) -> list[ShapeResult]:
    device = torch.device(args.device)
    grid = QUICK_GRID if args.quick else FULL_GRID
    if args.calibration is not None:
        # Evaluate the planner as it would be with weights fitted to these (other-grid) timings.
        DEFAULT_COSTS[device.type] = fit(json.loads(args.calibration.read_text()))
        print(f"planner weights for {device.type}, fitted to {args.calibration}: {DEFAULT_COSTS[device.type]}")
    cost = DEFAULT_COSTS.get(device.type, FLOPS_ONLY)
    results = _load(args.csv) if args.resume and args.csv else []
    done = {(r.mode, r.batch, r.in_channels, r.out_channels, r.states, r.length) for r in results}
    writer = CsvRows(args.csv, append=bool(results))
    trimmed: dict[str, int] = {}
    repeats = args.repeats
    # Cheapest shapes first, all modes interleaved: an interrupted run still covers every mode.
    work = sorted(
        (
            (mode, shape)
            for mode in args.modes
            for shape in _shapes(grid, square=args.quick)
            if (mode, *shape) not in done
        ),
        key=lambda item: _predicted_flops(item[0], *item[1]),
    )
    for mode, (batch, c, d, n, length) in work:
        if (mode, batch, c, d, n, length) in done:
            continue
        extras = _layer_extras(mode, c, d, n)
        if extras is None:
            trimmed["group: channels not divisible by 4 groups"] = (
                trimmed.get("group: channels not divisible by 4 groups", 0) + 1
            )
            continue
        torch.manual_seed(0)
        layer = SSMLayer(c, d, n, mode, device=device, **extras)  # type: ignore[arg-type]
        chosen = layer.plan(batch, length)
        kernel_bytes = math.prod(layer.a_re.shape) * length * 4
        if _peak_bytes(chosen) > args.max_bytes or kernel_bytes * 3 > args.max_bytes:
            trimmed["memory cap"] = trimmed.get("memory cap", 0) + 1
            continue
        if chosen.training_flops > args.max_gflop * 1e9:
            trimmed["compute cap"] = trimmed.get("compute cap", 0) + 1
            continue
        u = torch.randn(batch, c, length, device=device, requires_grad=True)
        kernel = layer.kernel(length).detach().requires_grad_(True)
        best_score = plan_score(chosen, cost)[0]
        alternatives = [
            plan
            for plan in layer.candidate_plans(batch, length)
            if plan.spectra == chosen.spectra
            and plan_score(plan, cost)[0] <= args.window * best_score
            and _peak_bytes(plan) <= args.max_bytes
        ]
        total = sum(1 for plan in layer.candidate_plans(batch, length) if plan.spectra == chosen.spectra)
        timings: dict[str, float] = {}
        for plan in alternatives:
            timings[plan.key] = _time(_plan_step(layer, u, plan), device, 1)
        # Re-time the front runners, the chosen plan and the FLOPs-only choice side by side, in
        # interleaved rounds, so that drift on a shared machine hits them alike.
        flops_only = min(
            (plan for plan in layer.candidate_plans(batch, length) if plan.spectra == chosen.spectra),
            key=lambda plan: plan_score(plan, FLOPS_ONLY),
        )
        by_key = {plan.key: plan for plan in (*alternatives, flops_only)}
        front = sorted(timings, key=timings.__getitem__)[:3]
        contenders = {key: by_key[key] for key in (*front, chosen.key, flops_only.key)}
        timings.update(_time_interleaved(layer, u, contenders, device, repeats))
        ranked = sorted(timings, key=timings.__getitem__)
        fastest = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else ranked[0]

        rule = _rule_plan(layer, batch, length, cost, chosen.spectra)
        rule_ms = math.nan
        if rule is not None:
            rule_ms = timings.get(rule.key) or _time(_plan_step(layer, u, rule), device, repeats)
        blind = best_plan_for_tree(
            mode,
            layer.sizes,
            batch,
            length,
            opt_einsum_tree(mode, layer.sizes, batch, length),
            spectra=chosen.spectra,
            cost=cost,
        )
        blind_ms = timings.get(blind.key) or (
            _time(_plan_step(layer, u, blind), device, repeats) if _peak_bytes(blind) <= args.max_bytes else math.nan
        )
        naive_ms = math.nan
        naive_bytes, naive_flops = _naive_cost(layer, batch, length)
        if naive_bytes <= args.max_bytes and naive_flops <= args.naive_max_gflop * 1e9:
            naive_ms = _time(_naive_step(layer, u, kernel), device, 1)
        result = ShapeResult(
            mode=mode, batch=batch, in_channels=c, out_channels=d, states=n, length=length,
            chosen=chosen.key, chosen_ms=timings[chosen.key], fastest=fastest, fastest_ms=timings[fastest],
            runner_up=runner_up, runner_up_ms=timings[runner_up],
            timed=len(alternatives), skipped=total - len(alternatives),
            flops_only=flops_only.key, flops_only_ms=timings[flops_only.key],
            rule=rule.key if rule else "", rule_ms=rule_ms, blind=blind.key, blind_ms=blind_ms,
            naive_ms=naive_ms, chosen_gflop=chosen.training_flops / 1e9,
        )  # fmt: skip
        results.append(result)
        writer.write(result)
        flag = "" if result.within_5_percent else f"  <- fastest {fastest} ({timings[fastest]:.1f} ms)"
        print(
            f"{mode:<6} b={batch:<3} c={c:<4} d={d:<4} n={n:<4} L={length:<6} chosen {timings[chosen.key]:9.1f} ms"
            f"  rule {rule_ms:9.1f}  blind {blind_ms:9.1f}  naive {naive_ms:9.1f}{flag}",
            flush=True,
        )
    for reason, count in trimmed.items():
        print(f"trimmed {count} shapes: {reason}")
    return results


def _load(path: Path) -> list[ShapeResult]:
    """Rows of an earlier (possibly interrupted) run, so ``--resume`` measures only what is missing."""
    if not path.exists():
        return []
    types = {name: field.type for name, field in ShapeResult.__dataclass_fields__.items()}
    casts = {"int": int, "float": float, "str": str}
    with path.open() as handle:
        return [
            ShapeResult(**{name: casts[str(types[name])](value) for name, value in row.items()})
            for row in csv.DictReader(handle)
            if None not in row.values()  # a row still being written by a running benchmark
        ]


def _geomean(values: list[float]) -> float:
    values = [v for v in values if math.isfinite(v) and v > 0]
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def summarise(results: list[ShapeResult]) -> str:
    lines = [
        "| mode | shapes | chosen within 5% of fastest | FLOPs-only choice within 5% | speed-up vs rule"
        " (where it differs) | vs opt_einsum dp (where it differs) | vs naive einsum |",
        "|---|---|---|---|---|---|---|",
    ]
    groups = {mode: [r for r in results if r.mode == mode] for mode in dict.fromkeys(r.mode for r in results)}
    groups["all"] = results
    for mode, rows in groups.items():
        within = sum(r.within_5_percent for r in rows)
        flops_within = sum(r.flops_only_ms <= 1.05 * r.fastest_ms for r in rows)
        rule_rows = [r.rule_ms / r.chosen_ms for r in rows if r.rule and r.rule != r.chosen]
        blind_rows = [r.blind_ms / r.chosen_ms for r in rows if r.blind != r.chosen]
        naive_rows = [r.naive_ms / r.chosen_ms for r in rows]
        naive_count = sum(math.isfinite(v) for v in naive_rows)
        lines.append(
            f"| {mode} | {len(rows)} | {within}/{len(rows)} ({100 * within / max(1, len(rows)):.0f}%) |"
            f" {flops_within}/{len(rows)} ({100 * flops_within / max(1, len(rows)):.0f}%) |"
            f" {_fmt(_geomean(rule_rows))} (n={len(rule_rows)}) | {_fmt(_geomean(blind_rows))} (n={len(blind_rows)}) |"
            f" {_fmt(_geomean(naive_rows))} (n={naive_count}) |"
        )
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small grid at L=1000 (seconds; used by make demo)")
    parser.add_argument("--modes", nargs="+", default=list(EXPRESSIONS), choices=list(EXPRESSIONS))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds for the front-runners (min)")
    parser.add_argument("--window", type=float, default=8.0, help="time alternatives predicted within this factor")
    parser.add_argument("--max-bytes", type=float, default=6e9, help="memory cap per plan (bytes)")
    parser.add_argument("--max-gflop", type=float, default=60.0, help="compute cap on the chosen plan (GFLOP)")
    parser.add_argument(
        "--naive-max-gflop", type=float, default=2.0, help="time the naive einsum only below this estimated cost"
    )
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--csv", type=Path, help="write one row per shape here")
    parser.add_argument("--resume", action="store_true", help="keep the rows already in --csv, measure the rest")
    parser.add_argument("--summary-only", action="store_true", help="summarise the rows in --csv, measure nothing")
    parser.add_argument(
        "--calibration",
        type=Path,
        help="timings written by calibrate_planner.py --json: rank plans with the weights fitted to them",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.max_gflop = min(args.max_gflop, 3.0)
        args.repeats = min(args.repeats, 2)
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    if args.summary_only:
        if not args.csv:
            parser.error("--summary-only needs --csv")
        print(summarise(_load(args.csv)))
        return 0
    started = time.perf_counter()
    results = run(args)
    print(f"\n{len(results)} shapes in {time.perf_counter() - started:.0f} s\n")
    print(summarise(results))
    if args.csv:
        print(f"\nper-shape rows written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
