"""Scoring a comparison: hypervolume per (space, seed) against one reference point, and the best
quality each space reached under cost caps, with the spread over seeds and a plain verdict.

Hypervolume needs the same reference point for every study, or the numbers are not comparable:
it is the base config's ``reference`` when given, else derived once from all the comparison's
trials (the nadir of all of them pushed out by 10% of the range) and reported as derived. Raw
volumes multiply units (accuracy x FLOPs x bytes, 1e18 and up), so the tables give each as a share
of the box between the reference point and the comparison's ideal point (the best value of each
objective over all its trials): 1.0 would be one study holding the ideal point itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas.compare._variants import HETEROGENEOUS, Variant
from nas.cost import COST_OBJECTIVES
from nas.pareto import hypervolume, ideal_box_volume, reference_point
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.storage import load_existing_study
from nas.study.trials import trials_frame

CAP_QUANTILES = (0.25, 0.5, 0.75)
"""Default cost caps: these quantiles of the cost over every completed trial of the comparison."""


@dataclass(frozen=True)
class ComparisonResult:
    """Everything the comparison's tables, figures and summary are written from."""

    trials: pd.DataFrame  # every completed trial, with ``space`` and ``seed`` columns
    studies: pd.DataFrame  # one row per (space, seed): hypervolume and best quality under each cap
    spaces: pd.DataFrame  # one row per space: mean, std, min, max over seeds
    objectives: list[str]
    directions: Sequence[str]
    reference: dict[str, float]
    reference_derived: bool
    quality: str
    cost: str
    caps: list[float]
    verdict: str


def quality_and_cost(config: StudyConfig) -> tuple[str, str]:
    """The first task-metric objective (what a user wants high quality in) and the first cost objective."""
    metrics = [name for name in config.objective_names if name not in COST_OBJECTIVES and name != "train_seconds"]
    costs = [name for name in config.objective_names if name in COST_OBJECTIVES]
    if not metrics or not costs:
        raise StudyConfigError(
            f"objectives: got {config.objective_names}; allowed for a comparison: at least one task metric"
            f" and one cost field ({', '.join(COST_OBJECTIVES)})"
        )
    return metrics[0], costs[0]


def collect(variants: Sequence[Variant]) -> pd.DataFrame:
    """The completed trials of every study of the comparison that has started, in one frame."""
    frames = []
    for variant in variants:
        try:
            study = load_existing_study(variant.config)
        except StudyConfigError:
            continue  # not started yet: it contributes no trials (and the summary says how many ran)
        frame = trials_frame(study, variant.config)
        frame = frame[frame["state"] == "complete"].drop(columns=["seed"], errors="ignore")  # the variant's seed
        if variant.config.weight_sharing:  # estimates rank; only stand-alone confirmations decide a verdict
            frame = frame[frame["kind"] == "confirmed"]
        frame.insert(0, "seed", variant.seed)
        frame.insert(0, "space", variant.space)
        frames.append(frame)
    if not frames:
        raise StudyConfigError("compare: no study of this comparison has completed trials yet; run it first")
    return pd.concat(frames, ignore_index=True)


def _round_significant(value: float, digits: int = 2) -> float:
    if value <= 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits - 1}e}")


def default_caps(trials: pd.DataFrame, cost: str) -> list[float]:
    values = trials[cost].astype(float).dropna()
    return sorted({_round_significant(float(values.quantile(q))) for q in CAP_QUANTILES})


def _best_under(trials: pd.DataFrame, quality: str, cost: str, cap: float, maximize: bool) -> float:
    inside = trials.loc[trials[cost].astype(float) <= cap, quality].astype(float).dropna()
    if inside.empty:
        return float("nan")
    return float(inside.max() if maximize else inside.min())


def analyse(variants: Sequence[Variant], base: StudyConfig, *, caps: Sequence[float] | None = None) -> ComparisonResult:
    trials = collect(variants)
    objectives, directions = base.objective_names, base.directions
    quality, cost = quality_and_cost(base)
    maximize = directions[objectives.index(quality)] == "maximize"
    values = trials[objectives].astype(float).to_numpy()
    if base.reference is not None:
        reference, derived = dict(base.reference), False
    else:
        point = reference_point(values, directions, front_only=False)
        reference, derived = dict(zip(objectives, map(float, point), strict=True)), True
    caps = sorted(caps) if caps else default_caps(trials, cost)
    ref = np.array([reference[name] for name in objectives])
    box = ideal_box_volume(values, ref, directions)  # one box for every study: shares compare

    rows = []
    for variant in variants:
        mine = trials[(trials["space"] == variant.space) & (trials["seed"] == variant.seed)]
        row: dict[str, object] = {"space": variant.space, "seed": variant.seed, "complete": len(mine)}
        points = mine[objectives].astype(float).to_numpy()
        raw = hypervolume(points, ref, directions) if len(mine) else 0.0
        row["hypervolume"] = raw / box
        row["hypervolume_raw"] = raw
        for index, cap in enumerate(caps):
            row[f"best_{quality}_cap{index + 1}"] = _best_under(mine, quality, cost, cap, maximize)
        rows.append(row)
    studies = pd.DataFrame(rows)
    spaces = _per_space(studies, quality, len(caps))
    verdict = _verdict(studies, spaces, quality, cost, caps, maximize)
    return ComparisonResult(
        trials, studies, spaces, objectives, directions, reference, derived, quality, cost, list(caps), verdict
    )


def _per_space(studies: pd.DataFrame, quality: str, caps: int) -> pd.DataFrame:
    columns = ["hypervolume", "hypervolume_raw", *(f"best_{quality}_cap{index + 1}" for index in range(caps))]
    grouped = studies.groupby("space", sort=False)[columns]
    table = grouped.agg(["mean", "std", "min", "max"])
    table.columns = [f"{column}_{statistic}" for column, statistic in table.columns]
    table.insert(0, "seeds", studies.groupby("space", sort=False)["seed"].count())
    table.insert(1, "complete_trials", studies.groupby("space", sort=False)["complete"].sum())
    hetero = table.loc[HETEROGENEOUS, "hypervolume_raw_mean"] if HETEROGENEOUS in table.index else float("nan")
    table["hypervolume_vs_heterogeneous"] = table["hypervolume_raw_mean"] / hetero if hetero > 0 else float("nan")
    return table.reset_index()


def _verdict(
    studies: pd.DataFrame, spaces: pd.DataFrame, quality: str, cost: str, caps: Sequence[float], maximize: bool
) -> str:
    """A plain-language statement of whether heterogeneous beat every homogeneous space, and by how much."""
    by_space = spaces.set_index("space")
    if HETEROGENEOUS not in by_space.index or len(by_space) < 2:
        return "no verdict: the comparison needs the heterogeneous space and at least one homogeneous space"
    others = by_space.drop(index=HETEROGENEOUS)
    best_other = str(others["hypervolume_raw_mean"].idxmax())
    # ratios and wins from the raw volumes (the normalisation is one shared constant, but may be undefined)
    hetero_raw, other_raw = (
        by_space.loc[HETEROGENEOUS, "hypervolume_raw_mean"],
        others.loc[best_other, "hypervolume_raw_mean"],
    )
    shown = (
        "hypervolume_mean" if math.isfinite(by_space.loc[HETEROGENEOUS, "hypervolume_mean"]) else "hypervolume_raw_mean"
    )
    hetero_hv, other_hv = by_space.loc[HETEROGENEOUS, shown], others.loc[best_other, shown]
    seeds = sorted(studies["seed"].unique())
    wins = 0
    for seed in seeds:
        per_seed = studies[studies["seed"] == seed].set_index("space")["hypervolume_raw"]
        wins += int(per_seed.get(HETEROGENEOUS, 0.0) > per_seed.drop(index=HETEROGENEOUS, errors="ignore").max())
    if other_raw > 0:
        change = f"{100 * (hetero_raw / other_raw - 1):+.1f}%"
    else:
        change = "n/a (the best homogeneous space has zero hypervolume)"
    holds = hetero_raw > other_raw
    lines = [
        f"Hypervolume: heterogeneous {hetero_hv:.4g} (mean of {len(seeds)} seeds) vs the best homogeneous"
        f" space, {best_other}, {other_hv:.4g}: {change}. Heterogeneous had the highest hypervolume in"
        f" {wins} of {len(seeds)} seeds. The claim {'holds' if holds else 'does not hold'} on this measure"
        + (" (but not in every seed)." if holds and wins < len(seeds) else "."),
    ]
    for index, cap in enumerate(caps):
        column = f"best_{quality}_cap{index + 1}_mean"
        hetero = by_space.loc[HETEROGENEOUS, column]
        best = others[column].max() if maximize else others[column].min()
        if math.isnan(hetero) or math.isnan(best):
            lines.append(f"{cost} <= {cap:.3g}: not every space has a trial under this cap.")
            continue
        better = hetero > best if maximize else hetero < best
        lines.append(
            f"{cost} <= {cap:.3g}: best {quality} heterogeneous {hetero:.4g} vs best homogeneous {best:.4g}"
            f" ({'heterogeneous better' if better else 'homogeneous better or equal'}, {hetero - best:+.4g})."
        )
    return "\n".join(lines)
