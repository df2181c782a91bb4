"""The Pareto front and hypervolume history of a results table (one row per trial, one column per metric).

Objectives are chosen per call as an ordered mapping ``{column: "minimize" | "maximize"}`` over any
subset of the frame's numeric columns; the other columns ride along untouched. A row with a missing
value (NaN, None, pd.NA) in a chosen objective takes no part: it is never on a front, never
dominates, and adds nothing to a hypervolume. The analysis itself is the array code of
:mod:`nas.pareto._dominance`, :mod:`nas.pareto._crowding` and :mod:`nas.pareto.hypervolume`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nas.pareto._crowding import crowding_distance
from nas.pareto._directions import DirectionLike, direction_signs
from nas.pareto._dominance import _ranks_min
from nas.pareto._errors import ParetoError
from nas.pareto.hypervolume import (
    _hv_min,
    _inside_reference,
    _reference_min,
    _row_text,
    hypervolume,
    hypervolume_contributions,
    reference_point,
)

Objectives = Mapping[str, DirectionLike]
"""Objective columns in order, each with its direction: ``{"accuracy": "maximize", "flops": "minimize"}``."""

ReferenceLike = Mapping[str, float] | Sequence[float] | np.ndarray
"""A reference point: one value per objective, by column name or in the objectives' order."""

RANK_COLUMN = "rank"
CROWDING_COLUMN = "crowding"


def _objective_table(frame: pd.DataFrame, objectives: Objectives) -> tuple[list[str], list[DirectionLike], np.ndarray]:
    """The objective columns, their directions and their values as an n x k float array (NaN = missing)."""
    if not isinstance(objectives, Mapping) or not objectives:
        raise ParetoError(
            f"objectives must be a non-empty mapping {{column: 'minimize' | 'maximize'}}, got {objectives!r}"
        )
    columns = list(objectives)
    directions = list(objectives.values())
    direction_signs(directions)  # validates, naming the bad entry
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ParetoError(f"objective columns {missing} are not in the frame; its columns are {list(frame.columns)}")
    taken = [column for column in columns if column in (RANK_COLUMN, CROWDING_COLUMN)]
    if taken:
        raise ParetoError(
            f"objective columns {taken} clash with the output columns '{RANK_COLUMN}'/'{CROWDING_COLUMN}'; rename them"
        )
    values = np.empty((len(frame), len(columns)))
    for index, column in enumerate(columns):
        try:
            values[:, index] = frame[column].to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as error:
            raise ParetoError(
                f"objective column {column!r} must be numeric (missing values allowed), "
                f"got dtype {frame[column].dtype}: {error}"
            ) from error
    return columns, directions, values


def _reference_array(reference: ReferenceLike, columns: list[str]) -> np.ndarray:
    """A reference point given by column name or by position, as an array in the objectives' order."""
    if isinstance(reference, Mapping):
        absent = [column for column in columns if column not in reference]
        extra = [key for key in reference if key not in columns]
        if absent or extra:
            raise ParetoError(
                f"reference must give one value per objective {columns}; missing {absent}, unknown {extra}"
            )
        return np.asarray([reference[column] for column in columns], dtype=float)
    return np.asarray(reference, dtype=float)


def pareto_front(frame: pd.DataFrame, objectives: Objectives, *, max_rank: int = 0) -> pd.DataFrame:
    """The rows of ``frame`` on the Pareto front of ``objectives``, with ``rank`` and ``crowding`` columns.

    Args:
        frame: one row per trial; any columns besides the objectives are kept as they are.
        objectives: ordered mapping from column name to "minimize"/"maximize".
        max_rank: keep the rows of non-dominated ranks 0..max_rank (0, the default, is the front itself;
            larger values give the first fronts of NSGA-II-style selection).

    Returns:
        A copy of the selected rows (original index kept) plus ``rank`` (int) and ``crowding`` (float,
        NSGA-II crowding distance within the row's own front; inf at the front's ends), sorted by rank,
        then by the first objective from best to worst (then the next objectives, then frame order).
        Rows with a missing value in an objective are left out. Existing ``rank``/``crowding`` columns
        of the frame are replaced in the copy.
    """
    if not isinstance(max_rank, int | np.integer) or max_rank < 0:
        raise ParetoError(f"max_rank must be an integer >= 0, got {max_rank!r}")
    _, directions, values = _objective_table(frame, objectives)
    minimised = values * direction_signs(directions)
    ranks = _ranks_min(minimised)
    keep = np.flatnonzero((ranks >= 0) & (ranks <= max_rank))
    crowding = crowding_distance(values[keep], directions, ranks[keep])
    order = np.lexsort([*minimised[keep].T[::-1], ranks[keep]])  # last key is the primary one
    result = frame.iloc[keep].copy()
    result[RANK_COLUMN] = ranks[keep]
    result[CROWDING_COLUMN] = crowding
    return result.iloc[order]


def hypervolume_history(
    frame: pd.DataFrame, objectives: Objectives, reference: ReferenceLike, order_column: str | None = None
) -> pd.Series:
    """The hypervolume of the front of the first i rows, for every i, in the order of ``order_column``.

    Rows are sorted stably by ``order_column`` (e.g. the trial number or the completion time; missing
    values last), or kept in frame order when it is None. Entry i is HV(rows 0..i, reference), so the
    series is non-decreasing and its last entry is the hypervolume of all rows.

    The front is kept incrementally: a row outside the reference box, with a missing objective, or
    weakly dominated by the current front leaves the volume unchanged; any other row p adds exactly
    box(p) - HV({max(p, q) : q in front}), its exclusive contribution (the limit-set formula), and
    replaces the front points it dominates. Only the limit set's volume is computed afresh, so a few
    thousand rows take well under a second for two or three objectives.

    Returns:
        A float Series named "hypervolume", one entry per row of ``frame``, indexed by the sorted
        ``order_column`` values (by the frame's index when ``order_column`` is None).
    """
    columns, directions, values = _objective_table(frame, objectives)
    signs = direction_signs(directions)
    ref = _reference_min(_reference_array(reference, columns), signs)
    if order_column is None:
        order = np.arange(len(frame))
        index = frame.index
    else:
        if order_column not in frame.columns:
            raise ParetoError(
                f"order_column {order_column!r} is not in the frame; its columns are {list(frame.columns)}"
            )
        keys = frame[order_column].reset_index(drop=True)
        order = keys.sort_values(kind="stable", na_position="last").index.to_numpy()
        index = pd.Index(frame[order_column].to_numpy()[order], name=order_column)
    minimised = values * signs
    inside = _inside_reference(
        minimised, ref, lambda row: f"row {frame.index[row]!r} has objectives {_row_text(values[row])}"
    )
    history = np.zeros(len(frame))
    front = minimised[:0]
    volume = 0.0
    for position, trial in enumerate(order):
        point = minimised[trial]
        if inside[trial] and not (front <= point).all(axis=1).any():
            gain = float(np.prod(ref - point)) - _hv_min(np.maximum(front, point), ref)
            volume += max(gain, 0.0)  # exact arithmetic gives gain > 0; keep the series monotone
            front = np.concatenate([front[~(point <= front).all(axis=1)], point[None, :]])
        history[position] = volume
    return pd.Series(history, index=index, name="hypervolume")


@dataclass(frozen=True)
class ParetoFront:
    """The Pareto front of a results table for a chosen set of objectives.

    Attributes:
        rows: the front rows as returned by :func:`pareto_front` (with ``rank`` and ``crowding``).
        objectives: the objective columns and their directions, in order.
    """

    rows: pd.DataFrame
    objectives: dict[str, DirectionLike] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, objectives: Objectives) -> ParetoFront:
        """The front of ``frame`` for ``objectives`` (rows with missing objective values ignored)."""
        return cls(rows=pareto_front(frame, objectives), objectives=dict(objectives))

    @property
    def columns(self) -> list[str]:
        """The objective column names, in order."""
        return list(self.objectives)

    @property
    def directions(self) -> list[DirectionLike]:
        """The objective directions, in the columns' order."""
        return list(self.objectives.values())

    @property
    def points(self) -> np.ndarray:
        """The front's objective values, n x k, in the rows' order and the objectives' own directions."""
        return self.rows[self.columns].to_numpy(dtype=float)

    def __len__(self) -> int:
        return len(self.rows)

    def reference_point(self, margin: float = 0.1) -> dict[str, float]:
        """The default reference point of :func:`~nas.pareto.hypervolume.reference_point` for this front."""
        return dict(zip(self.columns, reference_point(self.points, self.directions, margin).tolist(), strict=True))

    def hypervolume(self, reference: ReferenceLike | None = None) -> float:
        """The front's hypervolume up to ``reference`` (default: :meth:`reference_point`)."""
        chosen = self.reference_point() if reference is None else reference
        return hypervolume(self.points, _reference_array(chosen, self.columns), self.directions)

    def contributions(self, reference: ReferenceLike | None = None) -> pd.Series:
        """Each front row's exclusive hypervolume contribution, indexed like :attr:`rows`."""
        chosen = self.reference_point() if reference is None else reference
        values = hypervolume_contributions(self.points, _reference_array(chosen, self.columns), self.directions)
        return pd.Series(values, index=self.rows.index, name="contribution")
