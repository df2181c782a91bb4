"""Build the results table that ``benchmarks/search_strategies.py`` replays: real training, every rung recorded.

Every architecture of a 162-architecture sub-space of ``kws-mel`` (three block types and two widths
in the first stage, three block types in each of the others; batch norm, GELU) is trained on the
generated 10-word corpus of ``studies/kws/compare.yaml`` with its training settings (200 steps of
16 clips, lr 0.003), through the rungs of successive halving at eta = 3 (22, 67 and 200 steps):
each rung's run continues the rung below from its checkpoint, with the learning-rate schedule
spanning the 200 steps, exactly as a promotion in a search does. After each rung the network is
evaluated on the test split (600 clips of 12 unseen speakers). One line per architecture is
appended to the table as it finishes, in a seeded random order, so an unfinished table is a
uniform sample of the space; rerunning skips the architectures already there.

    python benchmarks/build_results_table.py --out benchmarks/data/kws_mel_table.jsonl [--data data/kws-10words-300]

Several hours of CPU on one thread (about 1.5-2 minutes per architecture on this machine).
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

from nas.cost import score
from nas.study.backends.table import TABLE_FORMAT
from nas.tasks import Budget, TrainingConfig, make_task
from search_spaces import SearchSpace, builtin_space

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
BUDGET = "200steps"
FRACTIONS = (1 / 9, 1 / 3, 1.0)


def table_space() -> SearchSpace:
    """``kws-mel`` with its choices narrowed to 6 x 3 x 3 x 3 = 162 architectures (fixed widths, states and
    strides except where listed; batch norm and GELU everywhere)."""
    data = builtin_space("kws-mel").to_dict()
    data["name"] = "kws-mel-table"
    data["shared"] = []
    narrowed = [
        {"block": ["dws", "s5", "full"], "channels": [32, 64], "num_states": [8], "stride": 2},
        {"block": ["dws", "neck", "group"], "channels": [64], "num_states": [16], "stride": 2},
        {"block": ["dws", "s5", "full"], "channels": [64], "num_states": [32], "depth": 1, "stride": 1},
        {"block": ["dws", "neck", "group"], "channels": [64], "num_states": [32], "stride": 1},
    ]
    conditional = {"group": ("groups", [4]), "neck": ("bottleneck_ratio", [0.5]), "s5": ("state_blocks", [None])}
    for stage, choices in zip(data["stages"], narrowed, strict=True):
        for name, _ in conditional.values():
            stage.pop(name, None)
        stage.update(choices, activation="gelu")
        stage.update(dict(conditional[block] for block in choices["block"] if block in conditional))
    return SearchSpace.from_dict(data)


def _done(path: Path) -> set[str]:
    if not path.exists():
        return set()
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {line["arch_id"] for line in lines[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="benchmarks/data/kws_mel_table.jsonl")
    parser.add_argument("--data", default="data/kws-10words-300", help="the corpus (generated when missing)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, help="stop after this many new architectures")
    args = parser.parse_args()

    data, out = Path(args.data), Path(args.out)
    if not data.exists():
        from nas.data.synth import generate_corpus

        generate_corpus("kws", data, words=WORDS, per_word=300, speakers=60, testing_fraction=0.2)
    space = table_space()
    config = TrainingConfig(batch_size=16, lr=0.003, seed=0, threads=args.threads, progress=False)
    full = Budget.parse(BUDGET)
    budgets = [full.scaled(fraction) for fraction in FRACTIONS]
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": TABLE_FORMAT,
            "name": space.name,
            "space": space.to_dict(),
            "task": "kws",
            "data": str(data),
            "words": WORDS,
            "training": config.to_dict(),
            "budget": BUDGET,
            "budgets": [str(budget) for budget in budgets],
            "fractions": list(FRACTIONS),
            "command": " ".join(["python", *sys.argv]),
            "torch": torch.__version__,
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        out.write_text(json.dumps(header) + "\n")
    architectures = list(space.enumerate())
    random.Random(0).shuffle(architectures)
    done = _done(out)
    todo = [arch for arch in architectures if arch.id not in done]
    if args.limit is not None:
        todo = todo[: args.limit]
    print(f"{len(architectures)} architectures, {len(done)} in {out} already, {len(todo)} to train", flush=True)
    task = make_task("kws", data)  # the 35 Speech Commands classes, as the search's trials use
    with tempfile.TemporaryDirectory() as scratch:
        for count, arch in enumerate(todo, 1):
            started, rungs, previous = time.perf_counter(), [], None
            for index, budget in enumerate(budgets):
                checkpoint = None if index == len(budgets) - 1 else str(Path(scratch) / f"rung-{index}.pt")
                result = task.run(arch, budget, config, schedule=full, resume_from=previous, checkpoint_to=checkpoint)
                if result.status != "completed" or result.warnings:
                    raise SystemExit(f"{arch.summary()}: {result.reason or result.warnings}")
                seconds = result.training.seconds - result.training.previous_seconds
                rungs.append({"budget": str(budget), "metrics": result.metrics, "seconds": seconds})
                rungs[-1]["eval_seconds"] = result.eval_seconds
                previous = checkpoint
            row = {
                "arch_id": arch.id,
                "summary": arch.summary(),
                "arch": arch.to_dict(),
                "cost": score(arch, config.batch_size).objectives(),
                "rungs": rungs,
            }
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            accuracy = ", ".join(f"{rung['metrics']['accuracy']:.3f}" for rung in rungs)
            print(
                f"[{count}/{len(todo)}] {arch.summary()}: accuracy {accuracy} ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
