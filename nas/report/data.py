"""What a study report shows, as plain data: computed once, then drawn by :mod:`nas.report.figures`.

Keeping the numbers (front membership, block usage, hypervolume history) apart from the plotting
lets the tests compare them with independent computations (``non_dominated_mask``, counts taken from
the trial specs) and lets the page, the CSV and the live server all agree on one set of rows.

Which trials count where:

* *complete*: finished trials with objective values (including reused duplicates); they make the
  hypervolume history, since a duplicate told its values at its own completion time.
* *evaluated*: complete trials that are not a duplicate of an already evaluated architecture, as in
  ``centaurus-nas pareto``; the fronts, block usage and quality-versus-cost views use these, so one
  architecture is never counted twice. Duplicates have their original's values, so the front of the
  evaluated trials is exactly the front of the complete ones without the copies.
* everything else (pruned, failed, running, interrupted) appears only in the trials table, with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import optuna
import pandas as pd

from centaurus import MODES
from nas.pareto import ParetoError, hypervolume_history, non_dominated_mask, reference_point
from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.storage import load_existing_study
from nas.study.trials import trials_frame
from nas.tasks import TASKS

BLOCKS_COLUMN = "blocks"
"""Block type of every stage, in order, joined by ``/`` (``s5/dws/full``)."""
MIX_COLUMN = "block_mix"
"""The distinct block types a trial uses, in the canonical order of ``centaurus.MODES`` (``dws+s5``)."""
FRONT_COLUMN = "on_front"
"""True for the evaluated trials on the Pareto front of all the study's objectives."""
FRONT_GROUP = "front"
DOMINATED_GROUP = "dominated"


@dataclass(frozen=True)
class ReferencePoint:
    """The hypervolume reference point, and whether the config declared it or it was derived from the trials."""

    values: dict[str, float]
    declared: bool

    def describe(self) -> str:
        """One line for plots and headers, so nobody compares hypervolumes taken at different points."""
        shown = ", ".join(f"{name} = {value:.6g}" for name, value in self.values.items())
        if self.declared:
            return f"reference point declared in the config: {shown}"
        return f"automatic reference point (nadir of the front pushed out by 10% of its range): {shown}"


@dataclass(frozen=True)
class ReportData:
    """Everything one report page shows about a study at one moment."""

    study_name: str
    task: str
    storage_url: str
    objectives: dict[str, str]
    """Objective names and directions ("minimize"/"maximize"), in the study's order."""
    trials: pd.DataFrame
    """Every trial: :func:`nas.study.trials.trials_frame` plus ``blocks``, ``block_mix`` and ``on_front``."""
    evaluated: pd.DataFrame
    """Complete, non-duplicate trials (a subset of ``trials``' rows, same columns), by trial number."""
    stage_blocks: dict[int, tuple[str, ...]]
    """Block type of each stage, per trial number, for every trial whose architecture is known."""
    reference: ReferencePoint | None
    history: pd.DataFrame
    """Hypervolume after each completion: ``completed_index`` (1..n), ``number``, ``completed``, ``hypervolume``."""
    block_usage: pd.DataFrame
    """``stage``, ``block``, ``group`` (front/dominated), ``count``, ``total``, ``share``: one row per combination."""
    quality: str | None
    """The objective shown against predicted training FLOPs (the first task metric, else the first maximised one)."""
    notes: list[str] = field(default_factory=list)
    """Things the reader should know (missing values, no reference point, unreadable specs), shown on the page."""
    generated: datetime = field(default_factory=datetime.now)

    @property
    def counts(self) -> dict[str, int]:
        """Trials by state, in a stable order for the header."""
        states = self.trials["state"].value_counts() if len(self.trials) else pd.Series(dtype=int)
        order = ("complete", "running", "waiting", "pruned", "fail", "interrupted")
        result = {state: int(states.get(state, 0)) for state in order}
        result.update({str(state): int(count) for state, count in states.items() if state not in result})
        return result

    @property
    def front(self) -> pd.DataFrame:
        """The evaluated trials on the Pareto front of all objectives."""
        return self.evaluated[self.evaluated[FRONT_COLUMN]]

    @property
    def hypervolume(self) -> float | None:
        """The current hypervolume (the last entry of the history), None without a reference point."""
        if self.reference is None or self.history.empty:
            return None
        return float(self.history["hypervolume"].iloc[-1])


# ------------------------------------------------------------------------------------- loading
def load_study(config: StudyConfig) -> optuna.Study:
    """The stored study of ``config`` (see :func:`nas.study.storage.load_existing_study`)."""
    return load_existing_study(config)


def collect(study: optuna.Study, config: StudyConfig) -> ReportData:
    """Read every trial of ``study`` and compute what the report shows."""
    architectures = {
        trial.number: trial.user_attrs[attrs.ARCH]
        for trial in study.get_trials(deepcopy=False)
        if attrs.ARCH in trial.user_attrs
    }
    return report_data(trials_frame(study, config), architectures, config)


def report_data(frame: pd.DataFrame, architectures: Mapping[int, Any], config: StudyConfig) -> ReportData:
    """The report's numbers from a trials frame (as :func:`trials_frame` makes it) and the trials' specs.

    ``architectures`` maps trial numbers to ``Architecture.to_dict()`` data (the ``arch`` attribute).
    """
    objectives = dict(zip(config.objective_names, config.directions, strict=True))
    notes: list[str] = []
    stage_blocks = _stage_blocks(architectures, notes)
    trials = _with_blocks(frame, stage_blocks, objectives)
    complete = trials[trials["state"] == "complete"]
    evaluated = complete[complete["duplicate_of"].isna()]
    evaluated = evaluated.sort_values("number", kind="stable")
    mask = _front_mask(evaluated, objectives, notes)
    trials[FRONT_COLUMN] = False
    trials.loc[evaluated.index[mask], FRONT_COLUMN] = True
    evaluated = trials.loc[evaluated.index]
    ordered = complete.sort_values(["completed", "number"], kind="stable", na_position="last")
    reference = _reference(ordered, objectives, config, notes)
    return ReportData(
        study_name=config.name,
        task=config.task,
        storage_url=config.storage_url,
        objectives=objectives,
        trials=trials,
        evaluated=evaluated,
        stage_blocks=stage_blocks,
        reference=reference,
        history=_history(ordered, objectives, reference, notes),
        block_usage=block_usage(evaluated, stage_blocks),
        quality=quality_objective(config),
        notes=notes,
    )


# ------------------------------------------------------------------------------------ pieces
def _stage_blocks(architectures: Mapping[int, Any], notes: list[str]) -> dict[int, tuple[str, ...]]:
    """Block type per stage for each trial; a spec without readable stages is reported, not guessed."""
    result: dict[int, tuple[str, ...]] = {}
    unreadable: list[int] = []
    for number, spec in architectures.items():
        stages = spec.get("stages") if isinstance(spec, Mapping) else None
        blocks = [stage.get("block") for stage in stages or () if isinstance(stage, Mapping)]
        if not stages or len(blocks) != len(stages) or not all(isinstance(block, str) for block in blocks):
            unreadable.append(int(number))
            continue
        result[int(number)] = tuple(blocks)  # type: ignore[arg-type]
    if unreadable:
        shown = ", ".join(str(number) for number in sorted(unreadable)[:10])
        notes.append(f"{len(unreadable)} trial(s) have an architecture spec without readable stages (trials {shown})")
    return result


def block_mix(blocks: tuple[str, ...]) -> str:
    """The distinct block types of an architecture, canonically ordered: ``dws+s5`` (a single type: ``s5 only``)."""
    order = {mode: index for index, mode in enumerate(MODES)}
    distinct = sorted(set(blocks), key=lambda block: (order.get(block, len(order)), block))
    return f"{distinct[0]} only" if len(distinct) == 1 else "+".join(distinct)


_BASE_COLUMNS = ("number", "state", "arch_id", "summary", "reason", "seed", "train_seconds", "duplicate_of")


def _with_blocks(
    frame: pd.DataFrame, stage_blocks: Mapping[int, tuple[str, ...]], objectives: Mapping[str, str]
) -> pd.DataFrame:
    """The frame with every column the report reads (an empty study's frame lacks some) and the block columns."""
    trials = frame.reset_index(drop=True)
    for column in (*_BASE_COLUMNS, *objectives):
        if column not in trials.columns:
            trials[column] = pd.Series([None] * len(trials), index=trials.index, dtype=object)
    for column in ("started", "completed"):
        if column not in trials.columns:
            trials[column] = pd.Series(pd.NaT, index=trials.index, dtype="datetime64[us]")
    numbers = trials["number"].tolist() if len(trials) else []
    trials[BLOCKS_COLUMN] = pd.Series(
        ["/".join(stage_blocks[n]) if n in stage_blocks else None for n in numbers], index=trials.index, dtype=object
    )
    trials[MIX_COLUMN] = pd.Series(
        [block_mix(stage_blocks[n]) if n in stage_blocks else None for n in numbers], index=trials.index, dtype=object
    )
    return trials


def objective_values(frame: pd.DataFrame, objectives: Mapping[str, str]) -> np.ndarray:
    """The objective columns as an n x k float array (missing values as NaN)."""
    if frame.empty:
        return np.zeros((0, len(objectives)))
    return np.column_stack([frame[name].to_numpy(dtype=float, na_value=np.nan) for name in objectives])


def _front_mask(evaluated: pd.DataFrame, objectives: Mapping[str, str], notes: list[str]) -> np.ndarray:
    values = objective_values(evaluated, objectives)
    missing = int(np.isnan(values).any(axis=1).sum()) if len(values) else 0
    if missing:
        notes.append(
            f"{missing} complete trial(s) have a missing (NaN) objective value: they are never on a front,"
            " add no hypervolume and are left out of the plots that need that value"
        )
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    return non_dominated_mask(values, list(objectives.values()))


def _reference(
    complete: pd.DataFrame, objectives: Mapping[str, str], config: StudyConfig, notes: list[str]
) -> ReferencePoint | None:
    """The config's reference point, else the one ``centaurus-nas status`` derives (so both report one number)."""
    if config.reference is not None:
        return ReferencePoint({name: float(config.reference[name]) for name in objectives}, declared=True)
    values = objective_values(complete, objectives)
    if len(values) == 0:
        return None
    try:
        point = reference_point(values, list(objectives.values()))
    except ParetoError as error:
        notes.append(f"no hypervolume: cannot derive a reference point from the trials ({error})")
        return None
    return ReferencePoint(dict(zip(objectives, (float(x) for x in point), strict=True)), declared=False)


def _history(
    ordered: pd.DataFrame, objectives: Mapping[str, str], reference: ReferencePoint | None, notes: list[str]
) -> pd.DataFrame:
    columns = ["completed_index", "number", "completed", "hypervolume"]
    if reference is None or ordered.empty:
        return pd.DataFrame(columns=columns)
    frame = ordered.reset_index(drop=True)
    try:
        volumes = hypervolume_history(frame, objectives, reference.values).to_numpy()
    except ParetoError as error:
        notes.append(f"no hypervolume history: {error}")
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        {
            "completed_index": np.arange(1, len(frame) + 1),
            "number": frame["number"].to_numpy(),
            "completed": frame["completed"].to_numpy(),
            "hypervolume": volumes,
        }
    )


def block_usage(evaluated: pd.DataFrame, stage_blocks: Mapping[int, tuple[str, ...]]) -> pd.DataFrame:
    """How often each block type fills each stage, among front trials and among dominated ones.

    ``share`` is ``count / total``, where ``total`` is the number of trials of that group that have
    the stage (architectures may differ in depth); every (stage, block type seen, group) appears,
    with count 0 where that combination never occurs, so the bars of both groups line up.
    """
    columns = ["stage", "block", "group", "count", "total", "share"]
    counts: dict[tuple[int, str, str], int] = {}
    totals: dict[tuple[int, str], int] = {}
    seen: set[str] = set()
    depth = 0
    for number, on_front in zip(evaluated["number"].tolist(), evaluated[FRONT_COLUMN].tolist(), strict=True):
        blocks = stage_blocks.get(int(number))
        if blocks is None:
            continue
        group = FRONT_GROUP if on_front else DOMINATED_GROUP
        depth = max(depth, len(blocks))
        for stage, block in enumerate(blocks):
            counts[(stage, block, group)] = counts.get((stage, block, group), 0) + 1
            totals[(stage, group)] = totals.get((stage, group), 0) + 1
            seen.add(block)
    order = {mode: index for index, mode in enumerate(MODES)}
    rows = []
    for stage in range(depth):
        for block in sorted(seen, key=lambda name: (order.get(name, len(order)), name)):
            for group in (FRONT_GROUP, DOMINATED_GROUP):
                count, total = counts.get((stage, block, group), 0), totals.get((stage, group), 0)
                rows.append((stage, block, group, count, total, count / total if total else math.nan))
    return pd.DataFrame(rows, columns=columns)


def quality_objective(config: StudyConfig) -> str | None:
    """The objective drawn against predicted training FLOPs: the first task metric, else the first
    maximised objective, else the first objective that is not ``train_flops`` itself."""
    names = config.objective_names
    metrics = TASKS[config.task].metrics
    for name in names:
        if name in metrics:
            return name
    for name, direction in zip(names, config.directions, strict=True):
        if direction == "maximize" and name != "train_flops":
            return name
    others = [name for name in names if name != "train_flops"]
    return others[0] if others else None
