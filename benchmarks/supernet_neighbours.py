"""What a supernet's estimate loses when a path moves one choice away from a path it trains every step.

A sandwich-trained supernet trains its largest and smallest paths on every step and every other path
only when a uniform draw lands on it. If the estimates of other paths mostly measure how far they are
from those two, rather than how good they are, they cannot rank architectures. This benchmark takes
one such path (``--base``: the sandwich's top path, as the study's ``largest_block`` makes it, or its
bottom path) and estimates it and every path that differs from it in exactly one choice (one stage's
block, channels, states, depth, stride, ...; or the network's activation), on the same supernet, with
the weight-sharing search's estimate (inherited weights, batch norm recalibrated, validation split).

Printed: each neighbour's estimated accuracy and validation loss next to the base path's, and the mean
drop per kind of choice. The supernet is read from ``--checkpoint`` (written by ``rank_agreement.py
--supernet-checkpoint`` or by a weight-sharing study) or trained first with ``--supernet-budget``.

    python benchmarks/supernet_neighbours.py --checkpoint /tmp/sn600.pt \\
        --out benchmarks/results/supernet_neighbours.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rank_agreement import sandwich_settings  # beside this script (on sys.path when run)

from nas.study import StudyConfig, preflight
from nas.study.progress import SearchProgress
from nas.supernet import estimate, load_supernet, train_supernet
from nas.tasks import make_task
from search_spaces import Architecture, SearchSpace

ROOT = Path(__file__).resolve().parents[1]


class _Replay:
    """Answers a space's choices as ``base`` made them, except one named choice (``override``)."""

    def __init__(self, base: Architecture, override: tuple[str, Any] | None = None) -> None:
        self.base = base
        self.override = override
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.asked.append((name, tuple(choices)))
        if self.override is not None and self.override[0] == name:
            return self.override[1]
        stage, _, field = name.rpartition(".")
        value = getattr(self.base.stages[int(stage[1:])] if stage else self.base.stages[0], field)
        return value if value in choices else choices[0]


def neighbours(space: SearchSpace, base: Architecture) -> Iterator[tuple[str, Architecture]]:
    """Every architecture of ``space`` that differs from ``base`` in one choice, labelled ``s2.block=full``."""
    recorder = _Replay(base)
    space.sample(recorder)
    seen = {base.id}
    for name, choices in recorder.asked:
        for value in choices:
            arch = space.sample(_Replay(base, (name, value)))
            if arch.id not in seen:  # the base's own value, or a choice the drawn sizes remap to another
                seen.add(arch.id)
                yield f"{name}={value}", arch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ws-config", type=Path, default=ROOT / "studies/kws/weight-sharing.yaml")
    parser.add_argument("--checkpoint", type=Path, required=True, help="the supernet (trained first if missing)")
    parser.add_argument("--supernet-budget", default="600s", help="training budget when --checkpoint is missing")
    parser.add_argument("--base", choices=("largest", "smallest"), default="largest")
    parser.add_argument("--calibration", type=int, default=8, help="batch-norm calibration batches per estimate")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/supernet_neighbours.json")
    args = parser.parse_args(argv)
    config = StudyConfig.load(args.ws_config)
    sandwich = sandwich_settings(config)  # the search's own settings (refuses a study without weight sharing)
    with SearchProgress(enabled=True) as progress:
        preflight.prepare_data(config, progress)
    task = make_task(config.task, config.data)
    training = dataclasses.replace(config.training, progress=False)
    if not args.checkpoint.exists():
        train_supernet(
            config.space, task, args.supernet_budget, training, sandwich=sandwich, checkpoint_to=args.checkpoint
        )
    supernet = load_supernet(args.checkpoint, training.resolved_device())
    base = supernet.largest(sandwich.largest_block) if args.base == "largest" else supernet.smallest()
    assert isinstance(base, Architecture)
    labelled = [("base", base), *neighbours(config.space, base)]
    metrics = estimate(supernet, [arch for _, arch in labelled], task, training, calibration_batches=args.calibration)
    quality = config.objective_names[0]
    rows: list[dict[str, Any]] = [
        {"change": label, "arch": arch.id, quality: values[quality], "loss": values.get("test_loss")}
        for (label, arch), values in zip(labelled, metrics, strict=True)
    ]
    reference = rows[0][quality]
    print(f"base ({args.base} path of the sandwich): {' | '.join(s.summary() for s in base.stages)}")
    print(f"| change | {quality} | drop | validation loss |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['change']} | {row[quality]:.3f} | {reference - row[quality]:+.3f} | {row['loss']:.3f} |")
    by_kind: dict[str, list[float]] = {}
    for row in rows[1:]:
        kind = row["change"].split("=")[0].split(".")[-1]
        by_kind.setdefault(kind, []).append(reference - row[quality])
    summary = {kind: statistics.fmean(drops) for kind, drops in by_kind.items()}
    print("mean drop per kind of choice: " + ", ".join(f"{k} {v:+.3f} ({len(by_kind[k])})" for k, v in summary.items()))
    record = {
        "argv": sys.argv[1:] if argv is None else argv,
        "base": base.to_dict(),
        "rows": rows,
        "mean_drop": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
