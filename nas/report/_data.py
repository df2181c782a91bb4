"""What a study report shows, as plain data: computed once, then drawn by :mod:`nas.report._figures`.

Keeping the numbers (front membership, per-stage choices, hypervolume history) apart from the plotting
lets the tests compare them with independent computations (``non_dominated_mask``, counts taken from
the trial specs) and lets the page, the CSV and the live server all agree on one set of rows.

Which trials count where:

* *complete*: finished trials with objective values (including reused duplicates); they make the
  hypervolume history, since a duplicate told its values at its own completion time.
* *evaluated*: complete trials that are not a duplicate of an already evaluated architecture, as in
  ``centaurus-nas pareto``; the fronts and the hypervolume use these, so one architecture is never
  counted twice. Duplicates have their original's values, so the front of the evaluated trials is
  exactly the front of the complete ones without the copies.
* *partial*: networks that were trained but not to the top rung of successive halving (pruned after a
  lower rung, or still running between rungs). They were trained, so the plots show them, marked, at
  the values of the highest rung they reached; they are never on a front (their values come from a
  smaller training budget) and add no hypervolume.
* every trial is in the trials table and the CSV, with every value known for it: told values for
  complete trials, the highest rung's values for partial ones, and the cost model's values (known
  before training) for trials pruned by a constraint. ``values_from`` says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import optuna
import pandas as pd

from centaurus import MODES
from nas.cost import COST_OBJECTIVES
from nas.pareto import (
    ParetoError,
    hypervolume_history,
    ideal_box_volume,
    non_dominated_mask,
)
from nas.report._choices import choice_usage
from nas.report._format import is_missing
from nas.study import attrs
from nas.study.config import StudyConfig
from nas.study.reference import REFERENCE_ATTR, StudyReference, study_reference
from nas.study.storage import load_existing_study
from nas.study.trials import trials_frame
from nas.study.weight_sharing.fronts import rank_agreement
from nas.tasks import get_task
from nas.tasks.budget import budget_share

BLOCKS_COLUMN = "blocks"
"""Block type of every stage, in order, joined by ``/`` (``s5/dws/full``)."""
MIX_COLUMN = "block_mix"
"""The distinct block types a trial uses, in the canonical order of ``centaurus.MODES`` (``dws+s5``)."""
FRONT_COLUMN = "on_front"
"""True for the evaluated trials on the Pareto front of all the study's objectives."""
RUNG_COLUMN = "rung"
"""The highest successive-halving rung a trial finished (0 = the lowest budget); empty without rungs."""
FRACTION_COLUMN = "rung_fraction"
"""The share of the full training budget that rung trained for."""
SOURCE_COLUMN = "values_from"
"""Where a row's objective values come from: ``final`` (told), ``rung K (33% of the budget)``, ``cost model``."""
FRONT_GROUP = "front"
OTHERS_GROUP = "others"
"""The groups of the per-stage choices view: front trials, and every other trained network."""


@dataclass(frozen=True)
class ReferencePoint:
    """The hypervolume reference point, and whether the config declared it or it was derived (space or trials)."""

    values: dict[str, float]
    declared: bool
    origin: str = ""
    """Where the point came from, as :class:`nas.study.reference.StudyReference` says (``space``, ``trials``, ...)."""

    def describe(self) -> str:
        """One line for plots and headers, so nobody compares hypervolumes taken at different points."""
        origin = self.origin or ("config" if self.declared else "trials")
        return StudyReference(self.values, origin).describe()


@dataclass(frozen=True)
class ReportData:
    """Everything one report page shows about a study at one moment."""

    study_name: str
    task: str
    storage_url: str
    objectives: Mapping[str, str]
    """Objective names and directions ("minimize"/"maximize"), in the study's order."""
    trials: pd.DataFrame
    """Every trial: :func:`nas.study.trials.trials_frame` plus ``blocks``, ``block_mix``, ``rung``,
    ``rung_fraction``, ``values_from`` and ``on_front``, with every objective value known for it."""
    evaluated: pd.DataFrame
    """Complete, non-duplicate trials (a subset of ``trials``' rows, same columns), by trial number."""
    partial: pd.DataFrame
    """Trained below the top rung only (pruned by successive halving, or between rungs), by trial number."""
    stage_blocks: dict[int, tuple[str, ...]]
    """Block type of each stage, per trial number, for every trial whose architecture is known."""
    reference: ReferencePoint | None
    history: pd.DataFrame
    """Hypervolume after each completion: ``completed_index`` (1..n), ``number``, ``completed``, ``hypervolume``,
    and ``share``, the hypervolume over the box between the reference point and the ideal point."""
    choices: pd.DataFrame
    """Per-stage choices of the front and of the other trained trials (:func:`nas.report._choices.choice_usage`)."""
    quality: str | None
    """The objective shown against predicted training FLOPs (the first task metric, else the first maximised one)."""
    notes: list[str] = field(default_factory=list)
    """Things the reader should know (missing values, no reference point, unreadable specs), shown on the page."""
    weight_sharing: list[str] = field(default_factory=list)
    """A weight-sharing study's lines: estimated and confirmed fronts, and the estimate's rank correlation."""
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
    def trained(self) -> pd.DataFrame:
        """Every trained network the plots show: the evaluated trials, then the partial ones."""
        return pd.concat([self.evaluated, self.partial]) if len(self.partial) else self.evaluated

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
    trials = study.get_trials(deepcopy=False)
    architectures = {trial.number: trial.user_attrs[attrs.ARCH] for trial in trials if attrs.ARCH in trial.user_attrs}
    rungs = {trial.number: trial.user_attrs[attrs.RUNGS] for trial in trials if trial.user_attrs.get(attrs.RUNGS)}
    stored = study.user_attrs.get(REFERENCE_ATTR)
    return report_data(trials_frame(study, config), architectures, config, rungs, stored_reference=stored)


def report_data(
    frame: pd.DataFrame,
    architectures: Mapping[int, Any],
    config: StudyConfig,
    rungs: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
    *,
    stored_reference: Mapping[str, float] | None = None,
) -> ReportData:
    """The report's numbers from a trials frame (as :func:`trials_frame` makes it) and the trials' specs.

    ``architectures`` maps trial numbers to ``Architecture.to_dict()`` data (the ``arch`` attribute),
    ``rungs`` to their successive-halving rung records (the ``rungs`` attribute), ``stored_reference``
    is the study's ``reference_point`` attribute (the point derived from the space at the study's start).
    """
    objectives = dict(zip(config.objective_names, config.directions, strict=True))
    notes: list[str] = []
    stage_blocks = _stage_blocks(architectures, notes)
    trials = _with_blocks(frame, stage_blocks, objectives)
    _fill_known_values(trials, rungs or {}, list(objectives))
    complete = trials[trials["state"] == "complete"]
    evaluated = complete[complete["duplicate_of"].isna()]
    evaluated = evaluated.sort_values("number", kind="stable")
    if config.weight_sharing:  # one front per kind: an estimate and a stand-alone value are different measurements
        mask = np.zeros(len(evaluated), dtype=bool)
        for kind in ("estimated", "confirmed"):
            part = (evaluated["kind"] == kind).to_numpy()
            if part.any():
                mask[part] = _front_mask(evaluated[part], objectives, notes)
    else:
        mask = _front_mask(evaluated, objectives, notes)
    trials[FRONT_COLUMN] = False
    trials.loc[evaluated.index[mask], FRONT_COLUMN] = True
    evaluated = trials.loc[evaluated.index]
    partial = _partial(trials)
    ordered = complete.sort_values(["completed", "number"], kind="stable", na_position="last")
    if config.weight_sharing:  # the hypervolume that counts is the stand-alone one
        ordered = ordered[ordered["kind"] == "confirmed"]
    reference = _reference(ordered, objectives, config, stored_reference, notes)
    specs = {number: _stages(spec) for number, spec in architectures.items() if int(number) in stage_blocks}
    front = [int(n) for n in evaluated.loc[evaluated[FRONT_COLUMN], "number"]]
    others = [int(n) for n in evaluated.loc[~evaluated[FRONT_COLUMN], "number"]] + [int(n) for n in partial["number"]]
    return ReportData(
        study_name=config.name,
        task=config.task,
        storage_url=config.storage_url,
        objectives=objectives,
        trials=trials,
        evaluated=evaluated,
        partial=partial,
        stage_blocks=stage_blocks,
        reference=reference,
        history=_history(ordered, objectives, reference, notes),
        choices=choice_usage({FRONT_GROUP: front, OTHERS_GROUP: others}, specs, config.space),
        quality=quality_objective(config),
        notes=notes,
        weight_sharing=_weight_sharing_lines(evaluated, config) if config.weight_sharing else [],
    )


def _weight_sharing_lines(evaluated: pd.DataFrame, config: StudyConfig) -> list[str]:
    """Counts and fronts of both kinds, and per estimated objective the rank correlation over the confirmations."""
    lines = []
    counts = {}
    for kind in ("estimated", "confirmed"):
        rows = evaluated[evaluated["kind"] == kind]
        counts[kind] = f"{len(rows)} {kind} ({int(rows[FRONT_COLUMN].sum())} on the {kind} front)"
    lines.append(
        f"weight sharing: {counts['estimated']} by the supernet, {counts['confirmed']} by stand-alone training;"
        " the hypervolume is the confirmed front's"
    )
    confirmed = evaluated[evaluated["kind"] == "confirmed"]
    parameters = list(confirmed["cost.params"]) if "cost.params" in confirmed.columns else [math.nan] * len(confirmed)
    for name, direction in zip(config.objective_names, config.directions, strict=True):
        column = f"estimate.{name}"
        if name in COST_OBJECTIVES or column not in confirmed.columns:
            continue
        found = rank_agreement(name, list(confirmed[column]), list(confirmed[name]), parameters, direction)
        lines.append(f"estimate vs stand-alone {found.line()}")
    return lines


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


def _stages(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [stage for stage in spec.get("stages") or () if isinstance(stage, Mapping)]


def _top_rung(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    finished = [record for record in records if isinstance(record, Mapping) and "rung" in record]
    return max(finished, key=lambda record: int(record["rung"])) if finished else None


def _fill_known_values(
    trials: pd.DataFrame, rungs: Mapping[int, Sequence[Mapping[str, Any]]], names: list[str]
) -> None:
    """Give every trial the objective values known for it, and say where they come from (in place).

    Complete trials keep their told values. A trial that finished a lower rung gets that rung's values
    and metrics (``metric.<name>``); otherwise a cost objective is the cost model's value, known before
    training (a trial pruned by a constraint). ``rung`` and ``rung_fraction`` record the highest rung
    finished, for complete trials too.
    """
    tops = [_top_rung(rungs.get(int(number), ())) for number in trials["number"]]
    trials[RUNG_COLUMN] = pd.Series([float(t["rung"]) if t else math.nan for t in tops], index=trials.index)
    fractions = [float(t.get("fraction", math.nan)) if t else math.nan for t in tops]
    trials[FRACTION_COLUMN] = pd.Series(fractions, index=trials.index, dtype=float)
    sources: list[str | None] = []
    for index, state, top in zip(trials.index, trials["state"], tops, strict=True):
        if state == "complete":
            sources.append("final")
        elif top is not None:
            sources.append(_fill_from_rung(trials, index, top, names))
        else:
            sources.append(_fill_from_cost(trials, index, names))
    trials[SOURCE_COLUMN] = pd.Series(sources, index=trials.index, dtype=object)
    for name in names:  # values told as None arrive in object columns: numbers from here on
        trials[name] = pd.to_numeric(trials[name], errors="coerce")


def _fill_missing(trials: pd.DataFrame, index: Any, column: str, value: object) -> bool:
    if column not in trials.columns:
        trials[column] = pd.Series([None] * len(trials), index=trials.index, dtype=object)
    if is_missing(value) or not is_missing(trials.at[index, column]):
        return False
    trials.at[index, column] = value
    return True


def _fill_from_rung(trials: pd.DataFrame, index: Any, top: Mapping[str, Any], names: list[str]) -> str:
    told = list(top.get("objectives") or [])
    for name, value in zip(names, told, strict=False):
        _fill_missing(trials, index, name, value)
    for metric, value in (top.get("metrics") or {}).items():
        _fill_missing(trials, index, f"metric.{metric}", value)
    fraction = top.get("fraction")
    share = f" ({budget_share(float(fraction))} of the budget)" if fraction is not None else ""
    return f"rung {int(top['rung'])}{share}"


def _fill_from_cost(trials: pd.DataFrame, index: Any, names: list[str]) -> str | None:
    filled = False
    for name in names:
        column = f"cost.{name}"
        if column in trials.columns:
            filled |= _fill_missing(trials, index, name, trials.at[index, column])
    return "cost model" if filled else None


def _partial(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials with a finished rung that are not complete, not a reused duplicate and not an interrupted run
    (whose finished rungs its re-run keeps: the same training would be shown twice)."""
    keep = (
        trials[RUNG_COLUMN].notna() & ~trials["state"].isin(["complete", "interrupted"]) & trials["duplicate_of"].isna()
    )
    return trials[keep].sort_values("number", kind="stable")


def block_mix(blocks: tuple[str, ...]) -> str:
    """The distinct block types of an architecture, canonically ordered: ``dws+s5`` (a single type: ``s5 only``)."""
    order: dict[str, int] = {mode: index for index, mode in enumerate(MODES)}
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
    complete: pd.DataFrame,
    objectives: Mapping[str, str],
    config: StudyConfig,
    stored: Mapping[str, float] | None,
    notes: list[str],
) -> ReferencePoint | None:
    """The point ``centaurus-nas status`` uses (:func:`nas.study.reference.study_reference`): one number for both."""
    values = objective_values(complete, objectives)
    reference = study_reference(config, stored, values)
    if reference is None:
        if len(values):
            notes.append("no hypervolume: cannot derive a reference point from the trials")
        return None
    return ReferencePoint(reference.values, declared=reference.declared, origin=reference.origin)


def _history(
    ordered: pd.DataFrame, objectives: Mapping[str, str], reference: ReferencePoint | None, notes: list[str]
) -> pd.DataFrame:
    columns = ["completed_index", "number", "completed", "hypervolume", "share"]
    if reference is None or ordered.empty:
        return pd.DataFrame(columns=columns)
    frame = ordered.reset_index(drop=True)
    try:
        volumes = hypervolume_history(frame, objectives, reference.values).to_numpy()
    except ParetoError as error:
        notes.append(f"no hypervolume history: {error}")
        return pd.DataFrame(columns=columns)
    box = ideal_box_volume(
        objective_values(frame, objectives), [reference.values[name] for name in objectives], list(objectives.values())
    )
    return pd.DataFrame(
        {
            "completed_index": np.arange(1, len(frame) + 1),
            "number": frame["number"].to_numpy(),
            "completed": frame["completed"].to_numpy(),
            "hypervolume": volumes,
            "share": volumes / box,  # the box of every complete trial: the shares only grow
        }
    )


def quality_objective(config: StudyConfig) -> str | None:
    """The objective drawn against predicted training FLOPs: the first task metric, else the first
    maximised objective, else the first objective that is not ``train_flops`` itself."""
    names = config.objective_names
    metrics = get_task(config.task).metrics
    for name in names:
        if name in metrics:
            return name
    for name, direction in zip(names, config.directions, strict=True):
        if direction == "maximize" and name != "train_flops":
            return name
    others = [name for name in names if name != "train_flops"]
    return others[0] if others else None
