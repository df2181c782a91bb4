"""Is our SSM layer faster to train than the plain store-everything layer? Measured per training step.

The plain layer (``benchmarks/store_everything.py``) is what a user would write: a time-domain
kernel with plain autograd, spectra of both convolution operands, every product a ``torch.einsum``
and every intermediate kept for backward, along the same contraction order our planner would pick
for such an executor. Both sides share the layer's parameters, so they compute the same function
and the comparison is of execution only. For every shape this measures, on both sides:

* a training step: forward + backward of the layer with the input and every parameter requiring
  grad, ``y.backward(g)`` for a fixed random ``g``, gradients set to None before each step;
* a forward pass under ``torch.no_grad()``;
* the bytes autograd saves for backward (``nas.cost.measure_training_step``: distinct
  storages through ``saved_tensors_hooks``, each counted once, parameters excluded), against what
  each plan predicts (``ContractionPlan.saved_bytes``);
* correctness: ``max |ours - plain| / max |plain|`` of the forward output (flagged above
  ``--tolerance``).

Timings run ours and plain in alternating order (ours first in even rounds, plain first in odd ones)
for ``--rounds`` rounds after one warm-up step each, and report the **minimum** per side: the estimate
least disturbed by other work on a shared machine, with slow phases hitting both sides alike. On CPU
torch runs on one thread; float32 throughout.

Shapes. The KWS-typical grid is batch 1/8/16/32, channel pairs (in -> out) from 1/8/32/64/128/256
(squares and in != out, e.g. 1->64, 64->128, 128->64: ``CHANNEL_PAIRS``), states 8/16/32/64 and L
1000/4000/16000 samples: 672 shapes per mode, too many. Each mode gets a deterministic stratified
sample instead: every one of the 12 (batch, L) cells receives ``--per-cell`` shapes (default 3, so
36 per mode), each the (channel pair, states) combination that has been used least so far in this
mode (ties broken by a generator seeded with the mode name and ``--seed``), so channel pairs and
state counts are spread evenly over the sample. A drawn combination is rejected (and counted) when
the larger side's estimated memory would exceed ``--max-bytes`` or the plain step's estimated time
``--max-seconds``, before anything is allocated; the next least-used one is tried, so a cell of long,
wide shapes fills with the narrower shapes that fit. Estimates: memory is twice a plan's saved bytes
(its gradients are about as large) plus the time-domain kernel and its factors (plain: 24 bytes per
pole and sample, ours: 8) plus the input, output and their gradients; time is the plain plan's
training FLOPs at 4 GFLOP/s plus 50 ns per pole and sample for the time-domain kernel (one CPU thread;
both from measurements on the development machine). neck uses ``bottleneck = max(1, c // 4)``; group
uses 4 groups and leaves out channel pairs that 4 does not divide (counted).

Shapes run cheapest first with all modes interleaved, so an interrupted run covers every mode. Run
``python benchmarks/layer_speed.py --help`` for the options; ``--dry-run`` lists the sample only.
"""

from __future__ import annotations

import argparse
import csv
import gc
import itertools
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from csv_rows import CsvRows, LayerShape  # beside this script (on sys.path when run)
from store_everything import plain_forward, plain_plan  # beside this script (on sys.path when run)
from torch import nn

from centaurus import SSMLayer
from nas.cost import measure_training_step

MODES = ("dws", "s5", "neck", "full", "group")
BATCHES = (1, 8, 16, 32)
CHANNEL_PAIRS: tuple[tuple[int, int], ...] = (
    (8, 8), (32, 32), (64, 64), (128, 128), (256, 256),
    (1, 8), (1, 32), (1, 64), (8, 32), (32, 64), (64, 128), (128, 64), (128, 256), (256, 128),
)  # fmt: skip
STATES = (8, 16, 32, 64)
LENGTHS = (1000, 4000, 16000)
# (batch, in, out, states, length): small enough that --quick runs in well under a minute.
QUICK_SHAPES: tuple[tuple[int, int, int, int, int], ...] = ((1, 1, 8, 8, 1000), (8, 8, 32, 16, 1000))
GROUPS = 4

# Rough speeds for the compute-cap estimate (one CPU thread; a GPU is assumed ~300x faster).
_FLOP_RATE = {"cpu": 4e9, "cuda": 1.2e12}
_KERNEL_SECONDS_PER_POINT = {"cpu": 50e-9, "cuda": 0.2e-9}
_RESULTS = Path(__file__).resolve().parent / "results"

Shape = tuple[int, int, int, int, int]


@dataclass
class Row(LayerShape):
    ours_ms: float
    plain_ms: float
    speedup: float
    ours_fwd_ms: float
    plain_fwd_ms: float
    fwd_speedup: float
    ours_saved_bytes: int
    plain_saved_bytes: int
    ours_plan_saved_bytes: int
    plain_plan_saved_bytes: int
    ours_gflop: float
    plain_gflop: float
    rel_error: float
    ours_plan: str
    plain_plan: str

    @property
    def label(self) -> str:
        return f"b={self.batch} {self.in_channels}->{self.out_channels} n={self.states} L={self.length}"

    @property
    def saved_ratio(self) -> float:
        """Bytes ours saves for backward over what the plain layer saves (below 1: ours keeps less)."""
        return self.ours_saved_bytes / self.plain_saved_bytes if self.plain_saved_bytes else math.nan


# --------------------------------------------------------------------------------- shapes
def layer_extras(mode: str, in_channels: int, out_channels: int) -> dict[str, int] | None:
    """Mode-specific layer arguments, or None where the mode cannot take this channel pair."""
    if mode == "neck":
        return {"bottleneck": max(1, in_channels // 4)}
    if mode == "group":
        if in_channels % GROUPS or out_channels % GROUPS:
            return None
        return {"groups": GROUPS}
    return {}


def _poles(mode: str, c: int, d: int, n: int) -> int:
    """Number of poles (elements of A): the time-domain kernel has this many rows of L samples."""
    extras = layer_extras(mode, c, d) or {}
    return {
        "dws": c * n,
        "s5": n,
        "neck": extras.get("bottleneck", 1) * n,
        "full": d * c * n,
        "group": d * c * n // GROUPS,
    }[mode]


def _io_bytes(batch: int, c: int, d: int, length: int) -> int:
    return 2 * batch * (c + d) * length * 4  # input, output and both gradients, float32


def _formula_screen(mode: str, shape: Shape, args: argparse.Namespace) -> str | None:
    """Cheap lower bounds (no layer built): the plain kernel's own bytes and time."""
    batch, c, d, n, length = shape
    points = _poles(mode, c, d, n) * length
    if 24 * points + _io_bytes(batch, c, d, length) > args.max_bytes:
        return "memory cap"
    if points * _KERNEL_SECONDS_PER_POINT[args.device_type] > args.max_seconds:
        return "compute cap"
    return None


@dataclass
class Estimate:
    ours_bytes: float
    plain_bytes: float
    plain_seconds: float


def estimate(layer: SSMLayer, batch: int, length: int, device_type: str) -> Estimate:
    """Peak-ish bytes of each side and the plain step's seconds, from the plans (nothing allocated)."""
    points = layer.a_re.numel() * length
    io = _io_bytes(batch, layer.in_channels, layer.out_channels, length)
    ours, plain = layer.plan(batch, length), plain_plan(layer, batch, length)
    return Estimate(
        ours_bytes=2 * ours.saved_bytes + 8 * points + io,
        plain_bytes=2 * plain.saved_bytes + 24 * points + io,
        plain_seconds=plain.training_flops / _FLOP_RATE[device_type] + points * _KERNEL_SECONDS_PER_POINT[device_type],
    )


def _make_layer(mode: str, shape: Shape, device: torch.device) -> SSMLayer:
    _, c, d, n, _ = shape
    extras = layer_extras(mode, c, d)
    assert extras is not None
    torch.manual_seed(0)
    return SSMLayer(c, d, n, mode, dtype=torch.float32, device=device, **extras)  # type: ignore[arg-type]


def _screen(mode: str, shape: Shape, args: argparse.Namespace) -> tuple[str | None, float]:
    """Why a shape is left out (None: it is measured) and its estimated plain step in seconds."""
    reason = _formula_screen(mode, shape, args)
    if reason is not None:
        return reason, math.inf
    layer = _make_layer(mode, shape, args.device)
    guess = estimate(layer, shape[0], shape[4], args.device_type)
    if max(guess.ours_bytes, guess.plain_bytes) > args.max_bytes:
        return "memory cap", guess.plain_seconds
    if guess.plain_seconds > args.max_seconds:
        return "compute cap", guess.plain_seconds
    return None, guess.plain_seconds


def sample_shapes(mode: str, args: argparse.Namespace, rejected: Counter[str]) -> list[tuple[Shape, float]]:
    """The stratified sample of the module docstring: ``--per-cell`` shapes per (batch, L) cell."""
    rng = random.Random(f"layer_speed:{mode}:{args.seed}")
    pairs = [pair for pair in CHANNEL_PAIRS if layer_extras(mode, *pair) is not None]
    rejected[f"{mode}: channel pairs {GROUPS} groups do not divide"] += len(CHANNEL_PAIRS) - len(pairs)
    combos = [(c, d, n) for (c, d), n in itertools.product(pairs, STATES)]
    ties = {combo: rng.random() for combo in combos}
    pair_uses: Counter[tuple[int, int]] = Counter()
    state_uses: Counter[int] = Counter()
    chosen: list[tuple[Shape, float]] = []
    for batch, length in itertools.product(BATCHES, LENGTHS):
        tried: set[tuple[int, int, int]] = set()
        taken = 0
        while taken < args.per_cell and len(tried) < len(combos):
            c, d, n = min(
                (combo for combo in combos if combo not in tried),
                key=lambda combo: (pair_uses[combo[:2]] + state_uses[combo[2]], ties[combo]),
            )
            tried.add((c, d, n))
            shape = (batch, c, d, n, length)
            reason, seconds = _screen(mode, shape, args)
            if reason is not None:
                rejected[f"{mode}: draws over the {reason}"] += 1
                continue
            pair_uses[(c, d)] += 1
            state_uses[n] += 1
            chosen.append((shape, seconds))
            taken += 1
        if taken < args.per_cell:
            rejected[f"{mode}: cells short of --per-cell (b={batch}, L={length})"] += 1
    return chosen


# -------------------------------------------------------------------------------- measuring
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Plain(nn.Module):
    """The plain layer as a module over our layer's parameters (for measure_training_step)."""

    def __init__(self, layer: SSMLayer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return plain_forward(self.layer, u)


def _sum_loss(output: torch.Tensor) -> torch.Tensor:
    return output.sum()  # saves nothing: only the model's own saved bytes are counted


def _saved_bytes(model: nn.Module, u: torch.Tensor) -> int:
    return measure_training_step(model, u, _sum_loss, track_peak=False).saved_bytes


def _steps(
    forward: Callable[[torch.Tensor], torch.Tensor], layer: SSMLayer, u: torch.Tensor, grad: torch.Tensor
) -> tuple[Callable[[], None], Callable[[], None]]:
    leaves = [*layer.parameters(), u]

    def train() -> None:
        output = forward(u)
        output.backward(grad)

    def infer() -> None:
        with torch.no_grad():
            forward(u)

    def train_from_none() -> None:
        for leaf in leaves:
            leaf.grad = None
        train()

    return train_from_none, infer


def _timed(step: Callable[[], None], device: torch.device, before: Callable[[], None] | None = None) -> float:
    if before is not None:
        before()
    _sync(device)
    start = time.perf_counter()
    step()
    _sync(device)
    return time.perf_counter() - start


def measure(mode: str, shape: Shape, args: argparse.Namespace) -> Row:
    batch, c, d, n, length = shape
    device = args.device
    layer = _make_layer(mode, shape, device)
    plain_module = _Plain(layer)
    generator = torch.Generator(device="cpu").manual_seed(1)
    u = torch.randn(batch, c, length, generator=generator).to(device).requires_grad_()
    grad = torch.randn(batch, d, length, generator=generator).to(device)
    with torch.no_grad():
        ours_out, plain_out = layer(u), plain_forward(layer, u)
        scale = plain_out.abs().max().item()
        rel_error = (ours_out - plain_out).abs().max().item() / scale if scale > 0 else math.nan
    del ours_out, plain_out
    ours_saved = _saved_bytes(layer, u)
    plain_saved = _saved_bytes(plain_module, u)
    sides = {
        "ours": _steps(layer, layer, u, grad),
        "plain": _steps(plain_module, layer, u, grad),
    }
    for train, infer in sides.values():  # warm-up: plan caches, allocator, FFT plans
        train()
        infer()
    train_s: dict[str, list[float]] = {"ours": [], "plain": []}
    infer_s: dict[str, list[float]] = {"ours": [], "plain": []}
    for round_index in range(args.rounds):
        order = ("ours", "plain") if round_index % 2 == 0 else ("plain", "ours")
        for side in order:
            train_s[side].append(_timed(sides[side][0], device))
        for side in order:
            infer_s[side].append(_timed(sides[side][1], device))
    ours_plan, plain_plan_ = layer.plan(batch, length), plain_plan(layer, batch, length)
    ours_ms, plain_ms = min(train_s["ours"]) * 1e3, min(train_s["plain"]) * 1e3
    ours_fwd_ms, plain_fwd_ms = min(infer_s["ours"]) * 1e3, min(infer_s["plain"]) * 1e3
    return Row(
        mode=mode, batch=batch, in_channels=c, out_channels=d, states=n, length=length,
        ours_ms=ours_ms, plain_ms=plain_ms, speedup=plain_ms / ours_ms,
        ours_fwd_ms=ours_fwd_ms, plain_fwd_ms=plain_fwd_ms, fwd_speedup=plain_fwd_ms / ours_fwd_ms,
        ours_saved_bytes=ours_saved, plain_saved_bytes=plain_saved,
        ours_plan_saved_bytes=ours_plan.saved_bytes, plain_plan_saved_bytes=plain_plan_.saved_bytes,
        ours_gflop=ours_plan.training_flops / 1e9, plain_gflop=plain_plan_.training_flops / 1e9,
        rel_error=rel_error, ours_plan=ours_plan.key, plain_plan=plain_plan_.key,
    )  # fmt: skip


# ---------------------------------------------------------------------------------- output
_HEADER = (
    f"{'mode':<6} {'b':>3} {'c->d':>9} {'n':>3} {'L':>6} {'ours ms':>9} {'plain ms':>9} {'speedup':>8}"
    f" {'fwd x':>6} {'saved MiB ours/plain':>21}  plan (ours)"
)


def format_row(row: Row, tolerance: float) -> str:
    saved = f"{row.ours_saved_bytes / 2**20:.1f}/{row.plain_saved_bytes / 2**20:.1f}"
    flag = "" if row.rel_error < tolerance else f"  <- WRONG: rel. error {row.rel_error:.1e}"
    return (
        f"{row.mode:<6} {row.batch:>3} {f'{row.in_channels}->{row.out_channels}':>9} {row.states:>3} {row.length:>6}"
        f" {row.ours_ms:>9.2f} {row.plain_ms:>9.2f} {row.speedup:>7.2f}x {row.fwd_speedup:>5.2f}x {saved:>21}"
        f"  {row.ours_plan}{flag}"
    )


def _geomean(values: list[float]) -> float:
    values = [v for v in values if math.isfinite(v) and v > 0]
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}x"


def load_rows(path: Path) -> list[Row]:
    """The rows of an earlier run's CSV (also one cut short: rows are written as they are measured)."""
    casts = {"int": int, "float": float, "str": str}
    types = {name: casts[str(field.type)] for name, field in Row.__dataclass_fields__.items()}
    with path.open(newline="") as handle:
        return [Row(**{key: types[key](value) for key, value in record.items()}) for record in csv.DictReader(handle)]


def summary(rows: list[Row], tolerance: float) -> tuple[str, dict[str, dict[str, object]]]:
    """The per-mode Markdown table (and the same numbers as data for --json)."""
    lines = [
        "| mode | shapes | train speed-up (geo-mean) | forward-only speed-up | worst shape (train) |"
        " slower than plain | saved bytes ours/plain (geo-mean) | wrong outputs (max rel. error) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    data: dict[str, dict[str, object]] = {}
    groups = {mode: [r for r in rows if r.mode == mode] for mode in MODES if any(r.mode == mode for r in rows)}
    groups["all"] = rows
    for mode, group in groups.items():
        if not group:
            continue
        worst = min(group, key=lambda r: r.speedup)
        entry: dict[str, object] = {
            "shapes": len(group),
            "train_speedup": _geomean([r.speedup for r in group]),
            "forward_speedup": _geomean([r.fwd_speedup for r in group]),
            "worst_shape": worst.label,
            "worst_speedup": worst.speedup,
            "slower": sum(r.speedup < 1 for r in group),
            "saved_ratio": _geomean([r.saved_ratio for r in group]),
            "wrong": sum(not r.rel_error < tolerance for r in group),
            "max_rel_error": max(r.rel_error for r in group),
        }
        data[mode] = entry
        lines.append(
            f"| {mode} | {len(group)} | {_fmt(entry['train_speedup'])} | {_fmt(entry['forward_speedup'])} |"  # type: ignore[arg-type]
            f" {worst.label}: {worst.speedup:.2f}x | {entry['slower']}/{len(group)} |"
            f" {entry['saved_ratio']:.2f} | {entry['wrong']} (max {entry['max_rel_error']:.1e}) |"
        )
    return "\n".join(lines), data


# ------------------------------------------------------------------------------------ main
def _parse_shape(text: str) -> tuple[str, Shape]:
    """``MODE,B,C,D,N,L`` from the command line."""
    mode, *numbers = text.split(",")
    if mode not in MODES or len(numbers) != 5 or not all(number.isdigit() for number in numbers):
        raise argparse.ArgumentTypeError(f"--shape: got {text!r}; allowed: MODE,B,C,D,N,L with MODE in {MODES}")
    batch, c, d, n, length = (int(number) for number in numbers)
    return mode, (batch, c, d, n, length)


def _work(args: argparse.Namespace, rejected: Counter[str]) -> list[tuple[str, Shape, float]]:
    """(mode, shape, estimated plain seconds) to measure, cheapest first."""
    fixed: list[tuple[str, Shape]] = list(args.shape or [])
    if args.quick:
        fixed += list(itertools.product(args.modes, QUICK_SHAPES))
    timed: list[tuple[float, str, Shape]] = []
    for mode, shape in fixed:  # given shapes: measured whatever the caps say
        if layer_extras(mode, shape[1], shape[2]) is None:
            rejected[f"{mode}: channel pairs {GROUPS} groups do not divide"] += 1
            continue
        layer = _make_layer(mode, shape, args.device)
        timed.append((estimate(layer, shape[0], shape[4], args.device_type).plain_seconds, mode, shape))
    if not fixed:
        for mode in args.modes:
            timed += [(seconds, mode, shape) for shape, seconds in sample_shapes(mode, args, rejected)]
    return [(mode, shape, seconds) for seconds, mode, shape in sorted(timed)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--quick", action="store_true", help=f"only {len(QUICK_SHAPES)} small shapes per mode")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per shape (min reported)")
    parser.add_argument("--device", default="cpu", help="cpu (one thread) or cuda")
    parser.add_argument("--per-cell", type=int, default=3, help="shapes per (batch, L) cell of the sample")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample's tie-breaks")
    parser.add_argument("--max-bytes", type=float, default=6 * 2**30, help="memory cap on either side (bytes)")
    parser.add_argument("--max-seconds", type=float, default=2.0, help="cap on the plain step's estimated time (s)")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="max |ours - plain| / max |plain| allowed")
    parser.add_argument(
        "--csv", type=Path, nargs="?", const="default", help="per-shape rows (default results/layer_speed_DEVICE.csv)"
    )
    parser.add_argument(
        "--json", type=Path, nargs="?", const="default", help="rows + summary (default results/layer_speed_DEVICE.json)"
    )
    parser.add_argument(
        "--shape", type=_parse_shape, action="append", help="measure MODE,B,C,D,N,L instead of the sample (repeatable)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list the shapes (and estimated plain step) and exit")
    parser.add_argument("--summary-only", action="store_true", help="summarise the rows in --csv, measure nothing")
    args = parser.parse_args(argv)
    if args.summary_only:
        if args.csv is None or str(args.csv) == "default" or not args.csv.exists():
            parser.error("--summary-only needs --csv PATH of an earlier run")
        rows = load_rows(args.csv)
        print(f"{len(rows)} shapes from {args.csv}\n")
        print(summary(rows, args.tolerance)[0])
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here")
    args.device = torch.device(args.device)
    args.device_type = args.device.type
    for name in ("csv", "json"):
        if str(getattr(args, name)) == "default":
            setattr(args, name, _RESULTS / f"layer_speed_{args.device_type}.{name}")
    if args.device_type == "cpu":
        torch.set_num_threads(1)
    if args.quick:
        args.rounds = min(args.rounds, 3)
    print(
        f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, float32,"
        f" min of {args.rounds} interleaved rounds",
        flush=True,
    )
    rejected: Counter[str] = Counter()
    work = _work(args, rejected)
    if args.dry_run:
        for mode, (batch, c, d, n, length), seconds in work:
            print(f"{mode:<6} b={batch:<3} {f'{c}->{d}':>8} n={n:<3} L={length:<6} est. plain step {seconds:6.3f} s")
    for reason, count in sorted(rejected.items()):
        if count:
            print(f"left out: {count} {reason}")
    print(f"{len(work)} shapes to measure\n", flush=True)
    if args.dry_run:
        return 0
    started = time.perf_counter()
    rows: list[Row] = []
    writer = CsvRows(args.csv)
    print(_HEADER, flush=True)
    for mode, shape, _ in work:
        row = measure(mode, shape, args)
        rows.append(row)
        writer.write(row)
        print(format_row(row, args.tolerance), flush=True)
        gc.collect()
        if args.device_type == "cuda":
            torch.cuda.empty_cache()
    print(f"\n{len(rows)} shapes in {time.perf_counter() - started:.0f} s; times are the minimum over rounds;")
    print("speed-up = plain ms / ours ms (above 1: ours is faster); saved = bytes autograd keeps for backward\n")
    table, data = summary(rows, args.tolerance)
    print(table)
    wrong = [row for row in rows if not row.rel_error < args.tolerance]
    for row in wrong:
        print(f"WRONG OUTPUT: {row.mode} {row.label}: max |ours - plain| / max |plain| = {row.rel_error:.2e}")
    if args.csv:
        print(f"\nper-shape rows written to {args.csv}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        settings = {
            key: str(value) if isinstance(value, (Path, torch.device)) else value for key, value in vars(args).items()
        }
        payload = {
            "settings": settings,
            "torch": torch.__version__,
            "left_out": dict(rejected),
            "summary": data,
            "rows": [asdict(row) for row in rows],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"rows and summary written to {args.json}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
