"""Studies to report on and helpers to read reports: real cost-only searches (no training, no Ray),
hand-made studies whose every trial is chosen (an accuracy objective, a duplicate, pruned, failed and
running trials; successive halving with trials stopped at a lower rung), the report commands as the
CLI runs them, and the plot data embedded in a page."""

from __future__ import annotations

import argparse
import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from nas.cost import score
from nas.report.cli import register
from nas.study import StudyConfig, attrs
from search_spaces import Architecture, InputSpec, OutputSpec, Stage
from tests.support.studies import ACCURACY_AND_FLOPS, FLOPS_AND_PARAMS, RANDOM, REPORT_SPACE, kws_study

TWO = FLOPS_AND_PARAMS
THREE = {**FLOPS_AND_PARAMS, "train_peak_bytes": "minimize"}


def cost_config(tmp_path: Path, **changes: Any) -> StudyConfig:
    constraints = ["params <= 40k"]
    base = kws_study(
        "report-cost", tmp_path, REPORT_SPACE, TWO, budget={"trials": 14}, sampler=RANDOM, constraints=constraints
    )
    return StudyConfig.from_dict(base | changes)


def _arch(*stages: Stage) -> Architecture:
    return Architecture(task="kws", input=InputSpec(length=16000), output=OutputSpec(35), stages=stages)


def hand_made_architectures() -> list[Architecture]:
    return [
        _arch(
            Stage(block="dws", channels=8, num_states=4, stride=4),
            Stage(block="s5", channels=16, num_states=8, stride=4),
        ),
        _arch(
            Stage(block="s5", channels=8, num_states=4, stride=4),
            Stage(block="s5", channels=16, num_states=8, stride=4),
        ),
        _arch(
            Stage(block="full", channels=8, num_states=4, stride=4),
            Stage(block="dws", channels=16, num_states=8, stride=4),
        ),
        _arch(
            Stage(block="group", channels=8, num_states=4, groups=2, stride=4),
            Stage(block="neck", channels=16, num_states=8, bottleneck_ratio=0.5, stride=4),
        ),
        _arch(
            Stage(block="dws", channels=16, num_states=8, stride=4),
            Stage(block="dws", channels=32, num_states=8, stride=4),
        ),
    ]


ACCURACIES = [0.40, 0.55, 0.70, 0.62, 0.35]
FAILURE = "training failed: RuntimeError: <script>alert('boom')</script> & more"
PRUNE_REASON = "constraint params <= 1000 violated (params = 2610)"


def hand_made_config(tmp_path: Path, **changes: Any) -> StudyConfig:
    return StudyConfig.from_dict(kws_study("report-hand", tmp_path, REPORT_SPACE, ACCURACY_AND_FLOPS) | changes)


def _user_attrs(arch: Architecture, cost: dict[str, float], **extra: Any) -> dict[str, Any]:
    return {
        attrs.ARCH: arch.to_dict(),
        attrs.ARCH_ID: arch.id,
        attrs.SUMMARY: arch.summary(),
        attrs.SEED: 0,
        attrs.COST: cost,
        **extra,
    }


def fill_hand_made(study: optuna.Study, *, complete: bool = True) -> None:
    """Trials 0-4 complete (accuracy, train_flops), 5 a duplicate of 1, then one pruned, one failed,
    one running; ``complete=False`` leaves out every complete trial (and the duplicate)."""
    archs = hand_made_architectures()
    costs = [score(arch, 32).objectives() for arch in archs]
    if complete:
        for arch, cost, accuracy in zip(archs, costs, ACCURACIES, strict=True):
            user = _user_attrs(arch, cost, **{attrs.METRICS: {"accuracy": accuracy}, attrs.TRAIN_SECONDS: 1.5})
            study.add_trial(optuna.trial.create_trial(values=[accuracy, cost["train_flops"]], user_attrs=user))
        user = _user_attrs(archs[1], costs[1], **{attrs.METRICS: {"accuracy": ACCURACIES[1]}, attrs.DUPLICATE_OF: 1})
        study.add_trial(optuna.trial.create_trial(values=[ACCURACIES[1], costs[1]["train_flops"]], user_attrs=user))
    pruned = _user_attrs(archs[0], costs[0], **{attrs.REASON: PRUNE_REASON})
    study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, user_attrs=pruned))
    failed = _user_attrs(archs[2], costs[2], **{attrs.REASON: FAILURE})
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL, user_attrs=failed))
    running = _user_attrs(archs[3], costs[3], **{attrs.PHASE: "training rung 0"})
    study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, user_attrs=running))


HALVING = {**ACCURACY_AND_FLOPS, "train_peak_bytes": "minimize"}
STOPPED_REASON = "stopped after rung 0 (0.333333 of the budget): not promoted by Pareto rank"
HALVING_ACCURACY = {0: (0.30, 0.55), 1: (0.25, 0.62), 2: (0.20,), 3: (0.10,), 5: (0.15,), 6: (0.40,)}
"""Accuracy per rung of the halving study's trained trials (rung 0 at a third of the budget, rung 1 full)."""


def halving_config(tmp_path: Path, **changes: Any) -> StudyConfig:
    fidelity = {"min_fraction": 1 / 3, "eta": 3}
    base = kws_study("report-halving", tmp_path, REPORT_SPACE, HALVING, constraints=["params <= 1M"], fidelity=fidelity)
    return StudyConfig.from_dict(base | changes)


def halving_architectures() -> list[Architecture]:
    return [
        *hand_made_architectures(),
        _arch(
            Stage(block="s5", channels=16, num_states=8, stride=4),
            Stage(block="neck", channels=32, num_states=8, bottleneck_ratio=0.5, stride=4),
        ),
        _arch(
            Stage(block="group", channels=16, num_states=4, groups=2, stride=4),
            Stage(block="s5", channels=32, num_states=8, stride=4),
        ),
    ]


def _rung(index: int, accuracy: float, cost: dict[str, float]) -> dict[str, Any]:
    fraction = 1 / 3 if index == 0 else 1.0
    return {
        "rung": index,
        "fraction": fraction,
        "budget": f"{round(45 * fraction)}s",
        "objectives": [accuracy, cost["train_flops"], cost["train_peak_bytes"]],
        "metrics": {"accuracy": accuracy, "test_loss": 3.0 - accuracy},
        "train_seconds": 45 * fraction,
        "run": f"run{index}",
    }


def fill_halving(study: optuna.Study) -> None:
    """Successive halving as the driver records it: trials 0-1 complete after rungs 0 and 1; 2-3 trained at
    rung 0 only and pruned; 4 pruned by a constraint before training; 5 running its rung 1 after rung 0;
    6 interrupted after rung 0 (its finished rung belongs to a re-run, so it is not drawn)."""
    archs = halving_architectures()
    costs = [score(arch, 32).objectives() for arch in archs]
    for number, arch in enumerate(archs):
        cost, accuracies = costs[number], HALVING_ACCURACY.get(number, ())
        rungs = [_rung(index, accuracy, cost) for index, accuracy in enumerate(accuracies)]
        user = _user_attrs(arch, cost, **({attrs.RUNGS: rungs} if rungs else {}))
        if number in (0, 1):
            user[attrs.METRICS] = rungs[-1]["metrics"]
            study.add_trial(optuna.trial.create_trial(values=rungs[-1]["objectives"], user_attrs=user))
        elif number in (2, 3):
            user[attrs.REASON] = STOPPED_REASON
            study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, user_attrs=user))
        elif number == 4:
            user[attrs.REASON] = "constraint params <= 1000000 violated (params = 1.2e+06)"
            user[attrs.NOT_TRAINED] = True
            study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, user_attrs=user))
        elif number == 5:
            user[attrs.PHASE] = "training rung 1"
            study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, user_attrs=user))
        else:
            user[attrs.INTERRUPTED] = True
            user[attrs.REASON] = "the driver stopped while this trial ran; re-enqueued"
            study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL, user_attrs=user))


def cli(argv: list[str]) -> int:
    """Run one of this package's commands as ``centaurus-nas`` would (its parser, its handlers)."""
    parser = argparse.ArgumentParser(prog="centaurus-nas")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _decoded(value: Any) -> Any:
    """Plotly stores numeric arrays as ``{"dtype", "bdata"[, "shape"]}`` (base64): back to plain lists."""
    if isinstance(value, dict) and set(value) >= {"dtype", "bdata"}:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(size) for size in str(value["shape"]).split(",")])
        return array.tolist()
    if isinstance(value, dict):
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def plot_data(page: str) -> dict[str, list[dict[str, Any]]]:
    """Trace data of every plot embedded in a page, by div id, read back from the ``Plotly.newPlot`` calls."""
    decoder = json.JSONDecoder()
    result = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        traces, _ = decoder.raw_decode(page, match.end())
        result[match.group(1)] = _decoded(traces)
    return result
