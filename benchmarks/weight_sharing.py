"""Weight sharing against one network per trial, in the same wall time (issue 21's benchmark).

Two arms on the same data (default: the generated 10-word KWS corpus of ``studies/kws/quick.yaml``,
kws-mel space), the same objectives, constraints and hypervolume reference point, each given
``--minutes`` of wall time:

- **A**: today's search (``studies/kws/quick.yaml``): NSGA-II, one network trained per trial, successive
  halving on Pareto rank; as many trials as fit in the time.
- **B**: ``studies/kws/weight-sharing.yaml``: one supernet trained for ``--supernet-share`` of the time,
  ``--evaluations`` architectures estimated on it, then the top ``--top`` of the estimated front and
  ``--random`` random estimates retrained stand-alone with arm A's training budget.

Per arm: architectures whose quality was measured (trained stand-alone) or estimated, the size of
the front (arm B: the confirmed front), the hypervolume of the stand-alone front on the shared
reference point, the best stand-alone accuracy under two training-FLOPs caps, and for arm B Kendall
tau and Spearman rho between estimated and stand-alone accuracy over every confirmed architecture
(``--top + --random`` >= 12 for the issue's target), next to the parameter count's tau over the same
architectures (a proxy that costs nothing). The table is printed as Markdown and written
with the raw numbers as JSON.

    python benchmarks/weight_sharing.py --minutes 40 --out benchmarks/results/weight_sharing
    python benchmarks/weight_sharing.py --minutes 6 --supernet-budget 90s --evaluations 60 --top 5 --random 7 \\
        --training-budget 60steps --out /tmp/ws-short     # a short run: numbers for plumbing, not for claims
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import yaml

from nas.pareto import hypervolume, non_dominated_mask
from nas.study import StudyConfig, preflight, run_study
from nas.study.progress import SearchProgress
from nas.study.storage import load_existing_study
from nas.study.summary import complete_values
from nas.study.weight_sharing import CONFIRMED, ESTIMATED, agreement, complete_of_kind

optuna.logging.set_verbosity(optuna.logging.WARNING)
ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, changes: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["data"] = str((path.parent / data["data"]).resolve())
    return {**data, **changes}


def arm_configs(args: argparse.Namespace) -> tuple[StudyConfig, StudyConfig]:
    seconds = args.minutes * 60
    shared = {"output": str(args.out), "sampler": {"name": "nsga2", "seed": args.seed}, "keep_weights": False}
    if args.data:
        shared["data"] = str(Path(args.data).resolve())
    a = _load(ROOT / "studies/kws/quick.yaml", {**shared, "name": "arm-a-one-per-trial"})
    a["budget"] = {"trials": 100000, "wall_time": f"{seconds}s"}
    b = _load(ROOT / "studies/kws/weight-sharing.yaml", {**shared, "name": "arm-b-weight-sharing"})
    for key in ("objectives", "constraints", "reference", "generate_data", "cost", "resources"):
        b[key] = a[key]  # the same question, the same yardstick
    b["training"] = {**a["training"], "budget": args.training_budget or a["training"]["budget"]}
    a["training"] = b["training"]
    supernet_budget = args.supernet_budget or f"{int(seconds * args.supernet_share)}s"
    b["supernet"] = {**b["supernet"], "budget": supernet_budget, "evaluations": args.evaluations}
    b["confirm"] = {"top": args.top, "random": args.random}
    b["budget"] = {"wall_time": f"{seconds}s"}
    b["fidelity"] = {"min_fraction": 1.0}  # confirmations train at the full budget
    base = ROOT / "studies/kws"
    return StudyConfig.from_dict(a, base=base), StudyConfig.from_dict(b, base=base)


def _best_under(trials: list[optuna.trial.FrozenTrial], config: StudyConfig, cap: float) -> float:
    quality, flops = config.objective_names.index("accuracy"), "train_flops"
    inside = [t.values[quality] for t in trials if t.user_attrs["cost"][flops] <= cap]
    return max(inside) if inside else math.nan


def arm_row(config: StudyConfig, seconds: float, caps: list[float]) -> dict[str, Any]:
    study = load_existing_study(config)
    reference = np.array([config.reference[name] for name in config.objective_names])  # type: ignore[index]
    if config.weight_sharing:
        standalone = complete_of_kind(study, CONFIRMED)
        values = complete_values(study, CONFIRMED)
        estimated = len(complete_of_kind(study, ESTIMATED))
    else:
        standalone = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        values = complete_values(study)
        estimated = 0
    trained = sum(1 for t in study.get_trials(deepcopy=False) if t.user_attrs.get("rungs"))
    front = int(non_dominated_mask(values, config.directions).sum()) if len(values) else 0
    volume = hypervolume(values, reference, config.directions) if len(values) else 0.0
    row: dict[str, Any] = {
        "arm": config.name,
        "wall_seconds": round(seconds),
        "measured": trained,
        "estimated": estimated,
        "front": front,
        "hypervolume": volume,
    }
    for index, cap in enumerate(caps, start=1):
        row[f"best_accuracy_cap{index}"] = _best_under(standalone, config, cap)
    if config.weight_sharing:
        (quality, *_) = agreement(study, config)
        row.update(kendall=quality.kendall, spearman=quality.spearman, pairs=quality.pairs)
        row["parameters_kendall"] = quality.parameters_kendall  # the free proxy on the same confirmations
    return row


def markdown(rows: list[dict[str, Any]], caps: list[float]) -> str:
    columns = ["arm", "wall_seconds", "measured", "estimated", "front", "hypervolume"]
    columns += [f"best_accuracy_cap{i}" for i in range(1, len(caps) + 1)]
    columns += ["kendall", "spearman", "pairs", "parameters_kendall"]
    headers = [*columns[:6], *(f"best acc, FLOPs <= {cap:.3g}" for cap in caps)]
    headers += ["Kendall tau", "Spearman rho", "pairs", "parameter count's Kendall tau"]

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(row.get(column)) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=40.0, help="wall time of each arm")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/weight_sharing")
    parser.add_argument("--data", help="dataset folder (default: the quick study's generated corpus)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--supernet-share", type=float, default=0.4, help="share of arm B's time for the supernet")
    parser.add_argument("--supernet-budget", help="arm B's supernet budget instead (e.g. 600s, 2000steps)")
    parser.add_argument(
        "--training-budget", help="stand-alone training budget of both arms (default: the quick study's)"
    )
    parser.add_argument("--evaluations", type=int, default=1000, help="architectures arm B estimates")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--random", type=int, default=7, help="random confirmations (top + random >= 12)")
    parser.add_argument("--caps", default="0.5G,2G", help="two training-FLOPs caps for 'best accuracy under'")
    parser.add_argument("--arms", default="a,b", help="which arms to run (a, b or a,b)")
    args = parser.parse_args(argv)
    caps = [_quantity(cap) for cap in args.caps.split(",")]
    configs = dict(zip("ab", arm_configs(args), strict=True))
    with SearchProgress(enabled=True) as progress:  # generated before either clock starts: the arms' time is search
        preflight.prepare_data(configs["a"], progress)
    rows = []
    for arm in args.arms.split(","):
        config = configs[arm.strip()]
        started = time.monotonic()
        with SearchProgress(enabled=True) as progress:
            run_study(config, progress=progress)
        rows.append(arm_row(config, time.monotonic() - started, caps))
    table = markdown(rows, caps)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(table + "\n")
    (args.out / "table.json").write_text(json.dumps({"caps": caps, "rows": rows, "argv": argv}, indent=2, default=str))
    print(f"wrote {args.out / 'table.md'} and {args.out / 'table.json'}")
    return 0


def _quantity(text: str) -> float:
    from nas.study.quantities import parse_quantity

    value = parse_quantity(text.strip())
    if value is None or value <= 0:
        raise SystemExit(f"--caps: got {text!r}; allowed: positive amounts such as 0.5G,2G")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
