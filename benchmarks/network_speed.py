"""How fast do whole networks train, before vs after a change? Training steps per second, side by side.

A layer benchmark can miss what a network adds (norms, resampling, the head, the optimizer, many
small layers whose overheads add up), so this times complete training steps of:

* the three baseline networks, ``studies/architectures/{kws,asr,denoise}-baseline.yaml``;
* 20 random architectures of the built-in ``kws`` space: ``kws-random-K`` is
  ``builtin_space("kws").random(random.Random(SEED + K))`` (``--seed``, default 0), drawn once by the
  parent process from the current checkout's space and sent to both sides as JSON.

A training step is ``zero_grad(set_to_none=True)``, forward, a task loss on random data (kws:
cross-entropy on random labels; asr: CTC on random transcripts a quarter of the frame count long;
denoise: L1 to a random target), backward and an AdamW step. Each network runs at its spec's input
length and at its task's batch in ``studies/<task>/quick.yaml`` (kws 16, asr 8, denoise 8;
``--batch`` overrides), float32, torch on one thread (``--threads``).

Before vs after. With ``--baseline-rev REV`` a temporary ``git worktree`` of REV is created (and
removed at the end), and every network is measured in alternating subprocesses, one importing the
project from the baseline worktree (``PYTHONPATH``) and one from this checkout, for ``--rounds``
rounds (baseline first in even rounds, current first in odd ones). Each subprocess builds one
network, runs ``--warmup`` untimed steps and ``--steps`` timed ones and prints its timings as JSON;
the table gives per network the **minimum** step time of each side over all its rounds and steps
(the estimate least disturbed by other work on the machine) and the speed-up baseline / current.
Without ``--baseline-rev`` only this checkout is measured. The subprocess code uses only APIs that
both sides have: ``Architecture.from_json``, ``centaurus.networks.build`` and
``nas.cost.model.score``, whose predicted training FLOPs (each side's own cost model) give the
achieved GFLOP/s.

Networks whose predicted training peak (this checkout's cost model) exceeds ``--max-bytes`` (default
8 GiB; at the default batches the largest predicted is about 3.3 GiB) are left out and named. Run
``python benchmarks/network_speed.py --help`` for the options; ``--quick`` measures ``kws-baseline``
and the three random networks of least predicted training FLOPs, at batch 2 with few steps.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ("kws", "asr", "denoise")
BATCH = {"kws": 16, "asr": 8, "denoise": 8}  # training.batch_size of studies/<task>/quick.yaml
RANDOM_SPACE = "kws"
RANDOM_COUNT = 20
QUICK_RANDOM = 3
QUICK_BATCH = 2
_MARKER = "NETWORK_SPEED_RESULT "


# ------------------------------------------------------------------------------ the worker
def _worker() -> int:
    """One network's measurement in this process (the project comes from PYTHONPATH): JSON on stdout.

    Reads ``{"arch", "batch", "warmup", "steps", "threads", "device", "seed"}`` as JSON on stdin.
    """
    request = json.loads(sys.stdin.read())
    import torch
    import torch.nn.functional as F

    import centaurus
    from centaurus.networks import build
    from nas.cost.model import score
    from search_spaces import Architecture

    device = torch.device(request["device"])
    if device.type == "cpu":
        torch.set_num_threads(request["threads"])
    arch = Architecture.from_json(request["arch"])
    batch, length = request["batch"], arch.input.length
    torch.manual_seed(request["seed"])
    model = build(arch).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    audio = torch.randn(batch, arch.input.channels, length, device=device)
    with torch.no_grad():
        shape = tuple(model(audio).shape)
    generator = torch.Generator().manual_seed(request["seed"] + 1)
    if arch.task == "kws":
        labels = torch.randint(arch.output.size, (batch,), generator=generator).to(device)

        def loss_of(output: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(output, labels)
    elif arch.task == "asr":
        frames = shape[-1]
        target_length = max(1, frames // 4)
        targets = torch.randint(1, shape[1], (batch, target_length), generator=generator).to(device)
        frame_lengths = torch.full((batch,), frames, dtype=torch.long)
        target_lengths = torch.full((batch,), target_length, dtype=torch.long)

        def loss_of(output: torch.Tensor) -> torch.Tensor:
            log_probs = F.log_softmax(output, dim=1).permute(2, 0, 1)  # (frames, batch, classes)
            return F.ctc_loss(log_probs, targets, frame_lengths, target_lengths, blank=0, zero_infinity=True)
    else:
        target = torch.randn(shape, generator=generator).to(device)

        def loss_of(output: torch.Tensor) -> torch.Tensor:
            return F.l1_loss(output, target)

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    seconds: list[float] = []
    for index in range(request["warmup"] + request["steps"]):
        synchronize()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(model(audio))
        loss.backward()
        optimizer.step()
        synchronize()
        if index >= request["warmup"]:
            seconds.append(time.perf_counter() - start)
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"loss is {loss.item()} at step {index}")
    result = {
        "seconds": seconds,
        "train_flops": int(score(arch, batch).train_flops),
        "params": sum(p.numel() for p in model.parameters()),
        "centaurus": str(Path(centaurus.__file__).resolve()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    print(_MARKER + json.dumps(result), flush=True)
    return 0


# ------------------------------------------------------------------------------ the parent
@dataclass
class Network:
    name: str
    task: str
    arch_json: str
    batch: int
    length: int
    summary: str
    predicted_flops: int = 0
    predicted_peak_bytes: int = 0


@dataclass
class Side:
    """One side's measurements of one network over all rounds."""

    label: str
    seconds: list[float] = field(default_factory=list)
    train_flops: int = 0
    params: int = 0
    error: str = ""

    @property
    def min_seconds(self) -> float:
        return min(self.seconds) if self.seconds else math.nan

    @property
    def gflops_per_second(self) -> float:
        return self.train_flops / self.min_seconds / 1e9 if self.seconds else math.nan


@dataclass
class Result:
    network: Network
    current: Side
    baseline: Side | None

    @property
    def speedup(self) -> float:
        """Baseline step time over current (above 1: the current checkout is faster)."""
        if self.baseline is None:
            return math.nan
        return self.baseline.min_seconds / self.current.min_seconds


def networks(args: argparse.Namespace) -> list[Network]:
    """The baseline and random networks, as JSON specs, filtered by ``--networks`` (names or patterns)
    and by the memory cap (the current cost model's predicted peak; left-out networks are printed)."""
    sys.path.insert(0, str(ROOT))  # the parent reads specs and predicts costs from this checkout
    from nas.cost.model import score
    from search_spaces import Architecture, builtin_space

    specs: list[tuple[str, Any]] = [
        (f"{task}-baseline", Architecture.load(ROOT / "studies" / "architectures" / f"{task}-baseline.yaml"))
        for task in BASELINES
    ]
    space = builtin_space(RANDOM_SPACE)
    specs += [
        (f"{RANDOM_SPACE}-random-{index:02d}", space.random(random.Random(args.seed + index)))
        for index in range(RANDOM_COUNT)
    ]
    every = [
        Network(
            name=name,
            task=arch.task,
            arch_json=arch.to_json(),
            batch=args.batch or BATCH[arch.task],
            length=arch.input.length,
            summary=arch.summary(),
        )
        for name, arch in specs
    ]
    for network, (_, arch) in zip(every, specs, strict=True):
        report = score(arch, network.batch)
        network.predicted_flops, network.predicted_peak_bytes = report.train_flops, report.train_peak_bytes
    if args.networks:
        patterns = args.networks
        unknown = [p for p in patterns if not any(fnmatch.fnmatch(n.name, p) for n in every)]
        if unknown:
            raise SystemExit(f"--networks: got {unknown}; allowed: names or patterns of {[n.name for n in every]}")
        chosen = [n for n in every if any(fnmatch.fnmatch(n.name, p) for p in patterns)]
    elif args.quick:  # kws-baseline and the QUICK_RANDOM random networks predicted cheapest
        randoms = sorted((n for n in every if n.name.startswith(f"{RANDOM_SPACE}-random-")), key=_flops)
        chosen = [n for n in every if n.name == "kws-baseline"] + randoms[:QUICK_RANDOM]
    else:
        chosen = every
    kept = [n for n in chosen if n.predicted_peak_bytes <= args.max_bytes]
    for network in chosen:
        if network not in kept:
            print(
                f"left out {network.name}: predicted peak {network.predicted_peak_bytes / 2**30:.1f} GiB at"
                f" batch {network.batch} > --max-bytes {args.max_bytes / 2**30:.1f} GiB"
            )
    return kept


def _flops(network: Network) -> int:
    return network.predicted_flops


def _git(*command: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *command], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _run_worker(root: Path, network: Network, args: argparse.Namespace) -> dict[str, Any]:
    request = {
        "arch": network.arch_json,
        "batch": network.batch,
        "warmup": args.warmup,
        "steps": args.steps,
        "threads": args.threads,
        "device": args.device,
        "seed": 0,
    }
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=args.timeout,
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith(_MARKER)]
    if process.returncode != 0 or not lines:
        tail = (process.stderr or process.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"worker exited {process.returncode}: " + " | ".join(tail))
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(_MARKER))
    if not Path(result["centaurus"]).is_relative_to(root.resolve()):
        raise RuntimeError(f"worker imported centaurus from {result['centaurus']}, not from {root}")
    return result


def _measure(network: Network, roots: dict[str, Path], args: argparse.Namespace) -> Result:
    sides = {label: Side(label) for label in roots}
    labels = list(roots)
    for round_index in range(args.rounds):
        order = labels if round_index % 2 == 0 else labels[::-1]
        for label in order:
            side = sides[label]
            if side.error:
                continue
            try:
                result = _run_worker(roots[label], network, args)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                side.error = str(exc)
                print(f"  {network.name} [{label}] failed: {side.error}", flush=True)
                continue
            side.seconds += result["seconds"]
            side.train_flops, side.params = result["train_flops"], result["params"]
    return Result(network, sides["current"], sides.get("baseline"))


# ---------------------------------------------------------------------------------- output
def _ms(value: float) -> str:
    return f"{value * 1e3:10.1f}" if math.isfinite(value) else f"{'failed':>10}"


def _header(compare: bool) -> str:
    text = f"{'network':<17} {'task':<8} {'b':>3} {'L':>6} {'GFLOP':>7}"
    if compare:
        text += f" {'base ms':>10} {'cur ms':>10} {'speed-up':>8} {'base GF/s':>9} {'cur GF/s':>9}"
    else:
        text += f" {'ms':>10} {'steps/s':>8} {'GF/s':>9}"
    return text


def format_result(result: Result) -> str:
    network, current, baseline = result.network, result.current, result.baseline
    text = (
        f"{network.name:<17} {network.task:<8} {network.batch:>3} {network.length:>6} {current.train_flops / 1e9:7.2f}"
    )
    if baseline is not None:
        text += (
            f" {_ms(baseline.min_seconds)} {_ms(current.min_seconds)} {result.speedup:7.2f}x"
            f" {baseline.gflops_per_second:9.2f} {current.gflops_per_second:9.2f}"
        )
        if baseline.train_flops and baseline.train_flops != current.train_flops:
            text += f"  (baseline predicts {baseline.train_flops / 1e9:.2f} GFLOP)"
    else:
        text += f" {_ms(current.min_seconds)} {1 / current.min_seconds:8.2f} {current.gflops_per_second:9.2f}"
    return text


def _geomean(values: list[float]) -> float:
    values = [v for v in values if math.isfinite(v) and v > 0]
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def summary(results: list[Result]) -> list[str]:
    groups = {
        "baselines": [r for r in results if r.network.name.endswith("-baseline")],
        "random": [r for r in results if not r.network.name.endswith("-baseline")],
        "all": results,
    }
    lines = []
    for name, group in groups.items():
        if not group:
            continue
        rate = _geomean([r.current.gflops_per_second for r in group])
        line = f"{name:<10} {len(group):>2} networks: geo-mean GFLOP/s current {rate:.2f}"
        if any(r.baseline is not None for r in group):
            speedups = [r.speedup for r in group]
            finite = [s for s in speedups if math.isfinite(s)]
            line += (
                f", baseline {_geomean([r.baseline.gflops_per_second for r in group if r.baseline]):.2f};"
                f" speed-up geo-mean {_geomean(speedups):.2f}x"
                f" (min {min(finite, default=math.nan):.2f}x, max {max(finite, default=math.nan):.2f}x,"
                f" slower on {sum(s < 1 for s in finite)}/{len(finite)})"
            )
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-rev", help="git revision to compare against (a temporary worktree)")
    parser.add_argument("--networks", nargs="+", help="names or patterns, e.g. kws-baseline 'kws-random-0*'")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"kws-baseline and the {QUICK_RANDOM} cheapest random ones at batch {QUICK_BATCH}",
    )
    parser.add_argument(
        "--max-bytes", type=float, default=8 * 2**30, help="leave out networks predicted to need more (bytes)"
    )
    parser.add_argument("--batch", type=int, help="batch for every network (default: its task's, see above)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating subprocess rounds per side")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per subprocess")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per subprocess")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--seed", type=int, default=0, help="kws-random-K is drawn with random.Random(SEED + K)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one subprocess may take")
    parser.add_argument("--json", type=Path, help="write the per-network results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker()
    if args.quick:
        args.batch = args.batch or QUICK_BATCH
        args.warmup, args.steps = min(args.warmup, 1), min(args.steps, 2)
        args.rounds = min(args.rounds, 2)
    chosen = networks(args)
    current = _git("describe", "--always", "--dirty")
    print(
        f"current checkout {ROOT} ({current}); {len(chosen)} networks, {args.rounds} rounds x {args.steps} timed"
        f" steps after {args.warmup} warm-up, {args.threads} thread(s), {args.device}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="network_speed_") as scratch:
        roots = {"current": ROOT}
        baseline_commit = ""
        if args.baseline_rev:
            try:
                baseline_commit = _git("rev-parse", "--verify", "--quiet", f"{args.baseline_rev}^{{commit}}")
            except subprocess.CalledProcessError:
                parser.error(f"--baseline-rev: got {args.baseline_rev!r}; allowed: a git revision of {ROOT}")
            worktree = Path(scratch) / "baseline"
            _git("worktree", "add", "--detach", str(worktree), baseline_commit)
            roots = {"baseline": worktree, "current": ROOT}
            print(f"baseline {args.baseline_rev} = {baseline_commit[:12]} in a temporary worktree {worktree}")
        try:
            results = _run_all(chosen, roots, args)
        finally:
            if args.baseline_rev:
                _git("worktree", "remove", "--force", str(roots["baseline"]))
                print("temporary worktree removed")
    print("\ntimes: minimum step (forward, loss, backward, AdamW) over all rounds and timed steps;")
    print("speed-up = baseline ms / current ms; GF/s = the cost model's training FLOPs / that time\n")
    for line in summary(results):
        print(line)
    failed = [r for r in results if any(side and side.error for side in (r.current, r.baseline))]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "current": current,
            "baseline_rev": args.baseline_rev,
            "baseline_commit": baseline_commit,
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "results": [
                {
                    "network": asdict(r.network),
                    "speedup": r.speedup,
                    **{
                        label: None
                        if side is None
                        else {**asdict(side), "min_seconds": side.min_seconds, "gflops": side.gflops_per_second}
                        for label, side in (("current", r.current), ("baseline", r.baseline))
                    },
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"\nresults written to {args.json}")
    return 1 if failed else 0


def _run_all(chosen: list[Network], roots: dict[str, Path], args: argparse.Namespace) -> list[Result]:
    results = []
    print("\n" + _header("baseline" in roots), flush=True)
    for network in chosen:
        result = _measure(network, roots, args)
        results.append(result)
        print(format_result(result), flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
