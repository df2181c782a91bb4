"""How much training do checkpointed promotions save in a real search?

Runs one real study config (default ``studies/kws/quick.yaml``: the kws-mel space on the generated
10-word corpus) twice with the same sampler seed, in-process and one trial at a time:

- ``continue``: the engine as it is; a promotion loads the checkpoint its rung below left and trains
  on to its own budget;
- ``retrain``: the same engine, but every promotion's request has its checkpoint removed, so it
  trains again from step 0 (how promotions worked before they continued from checkpoints).

The learning-rate schedule spans the top rung's budget in both arms, and continuing a checkpoint is
bit-exact with training straight through (``tests/nas/study/test_promotions.py``), so both arms
train the same networks to the same weights and the sampler sees the same results: the hypervolume
is the same by construction, and only the training cost differs. The table gives training seconds
per top-rung result for each arm and the saving, next to what the rung budgets alone predict for
the promotions the study made.

    python benchmarks/promotions.py [--config studies/kws/quick.yaml] [--min-fraction 0.111] [--trials 18]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import yaml

from nas.pareto import hypervolume
from nas.study import StudyConfig, run_study
from nas.study.backends import InProcessBackend
from nas.study.requests import TrialRequest
from nas.study.summary import complete_values
from nas.study.worker import run_trial
from nas.tasks import TaskResult

optuna.logging.set_verbosity(optuna.logging.WARNING)


def retraining_trial(request: TrialRequest) -> TaskResult:
    """``run_trial`` with the promotion's checkpoint dropped: every rung trains from step 0."""
    return run_trial(dataclasses.replace(request, resume_from=None))


def _config(path: Path, folder: Path, arm: str, trials: int, min_fraction: float | None) -> StudyConfig:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["name"] = f"promotions-{arm}"
    data["output"] = str(folder)
    data["storage"] = f"sqlite:///{folder / 'study.db'}"
    data["budget"] = {"trials": trials}  # no wall time: both arms ask the same number of trials
    if min_fraction is not None:
        data["fidelity"] = {**data.get("fidelity", {}), "min_fraction": min_fraction}
    data["keep_weights"] = False
    return StudyConfig.from_dict(data, base=path.parent)


def _predicted_saving(study: optuna.Study, fractions: list[float]) -> float:
    """Share of training the rung budgets alone predict continuing saves, for the runs this study made.

    A run that reached rung ``k`` costs ``fractions[k]`` retraining, ``fractions[k] - fractions[k-1]``
    continuing (in units of the top budget; training time is close to linear in steps)."""
    retrain = carry_on = 0.0
    for trial in study.trials:
        reached = len(trial.user_attrs.get("rungs", []))
        for rung in range(reached):
            retrain += fractions[rung]
            carry_on += fractions[rung] - (fractions[rung - 1] if rung else 0.0)
    return 1.0 - carry_on / retrain if retrain else 0.0


def _run(config: StudyConfig, arm: str) -> dict[str, Any]:
    backend = InProcessBackend(retraining_trial if arm == "retrain" else run_trial)
    start = time.perf_counter()
    outcome = run_study(config, backend=backend)
    wall = time.perf_counter() - start
    values = complete_values(outcome.study)
    assert config.reference is not None, "the config needs a reference point"
    reference = np.array([config.reference[name] for name in config.objective_names], dtype=float)
    volume = hypervolume(values, reference, config.directions) if len(values) else 0.0
    top = outcome.complete
    return {
        "arm": arm,
        "trials": len(outcome.study.trials),
        "top_rung_results": top,
        "stopped_early": outcome.pruned,
        "failed": outcome.failed,
        "training_seconds": outcome.training_seconds,
        "seconds_per_top_result": outcome.training_seconds / top if top else float("nan"),
        "hypervolume": volume,
        "front_values": values.tolist(),
        "predicted_saving": _predicted_saving(outcome.study, list(config.fidelity.rungs)),
        "wall_seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="studies/kws/quick.yaml", help="a study config with successive halving")
    parser.add_argument("--trials", type=int, default=18, help="trials per arm")
    parser.add_argument("--min-fraction", type=float, help="override the config's fidelity.min_fraction")
    parser.add_argument("--json", help="write both rows here")
    args = parser.parse_args()

    path = Path(args.config).resolve()
    rows = []
    for arm in ("retrain", "continue"):
        with tempfile.TemporaryDirectory() as folder:
            config = _config(path, Path(folder), arm, args.trials, args.min_fraction)
            if arm == "retrain":
                rungs = ", ".join(f"{fraction:.3g}" for fraction in config.fidelity.rungs)
                print(
                    f"{path.name}: {args.trials} trials of {config.training_budget}, rungs at {rungs} of it,"
                    f" eta {config.fidelity.eta}",
                    flush=True,
                )
            rows.append(_run(config, arm))
            row = rows[-1]
            print(
                f"{arm:>8}: {row['top_rung_results']} top-rung results, {row['stopped_early']} stopped early,"
                f" {row['failed']} failed, {row['training_seconds']:.0f} s of training,"
                f" {row['wall_seconds']:.0f} s wall",
                flush=True,
            )
    retrain, carry_on = rows
    saving = 1.0 - carry_on["seconds_per_top_result"] / retrain["seconds_per_top_result"]
    print()
    print(
        "| promotions | top-rung results | stopped early | training s | training s per top-rung result"
        " | hypervolume | same front |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['arm']} | {row['top_rung_results']} | {row['stopped_early']} | {row['training_seconds']:.0f}"
            f" | {row['seconds_per_top_result']:.1f} | {row['hypervolume']:.4g}"
            f" | {'yes' if row['front_values'] == rows[0]['front_values'] else 'no'} |"
        )
    print(
        f"\ncontinuing trains {saving:.0%} less per top-rung result"
        f" (the rung budgets predict {carry_on['predicted_saving']:.0%} for these promotions)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
