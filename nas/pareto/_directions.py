"""Objective directions and the minimisation frame that every Pareto routine works in.

Each objective is either minimised or maximised. Rather than carrying the direction through every
comparison, all algorithms in this package first move the points into the *minimisation frame*:

    v[:, j] = s_j * f[:, j],   s_j = +1 for "minimize", -1 for "maximize",

so that "better" always means "smaller". Negation is exact in IEEE arithmetic (it only flips the sign
bit), so nothing is lost, NaN stays NaN, and the way back is the same multiplication (s_j = 1 / s_j).
Dominance, ranks and crowding distances do not change under this map; a reference point for the
hypervolume is mapped the same way, and a reference point computed in the frame is mapped back before
it is returned.

Directions are the strings ``"minimize"`` and ``"maximize"`` (case-insensitive, as Optuna spells them).
Enum members whose ``name`` is ``MINIMIZE`` or ``MAXIMIZE`` (``optuna.study.StudyDirection``) are
accepted too, so ``study.directions`` can be passed as is; this module does not import Optuna.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from nas.pareto._errors import ParetoError

Direction = Literal["minimize", "maximize"]
"""The two objective directions, spelled as in Optuna."""

DirectionLike = str | Enum
"""A direction string, or an enum member named ``MINIMIZE`` / ``MAXIMIZE`` (e.g. Optuna's StudyDirection)."""

_SIGNS: dict[str, float] = {"minimize": 1.0, "maximize": -1.0}


def _direction_name(direction: DirectionLike) -> str:
    """The lower-case name of one direction, without validating it."""
    if isinstance(direction, Enum):
        return direction.name.lower()
    if isinstance(direction, str):
        return direction.strip().lower()
    return repr(direction)


def direction_signs(directions: Sequence[DirectionLike], n_objectives: int | None = None) -> np.ndarray:
    """The sign s_j of each objective: +1.0 for "minimize", -1.0 for "maximize".

    Multiplying column j by s_j moves points into the minimisation frame (and back). When
    ``n_objectives`` is given, the number of directions must equal it.

    Raises:
        ParetoError: a direction is not "minimize"/"maximize", the sequence is empty or a bare string,
            or its length differs from ``n_objectives``.
    """
    if isinstance(directions, str | Enum):
        raise ParetoError(
            f"directions must be a sequence with one 'minimize'/'maximize' per objective, got the single value "
            f"{directions!r}; wrap it in a list"
        )
    directions = list(directions)
    if not directions:
        raise ParetoError("directions is empty: give one 'minimize' or 'maximize' per objective")
    signs = []
    for index, direction in enumerate(directions):
        name = _direction_name(direction)
        if name not in _SIGNS:
            raise ParetoError(f"directions[{index}] is {direction!r}; allowed: 'minimize' or 'maximize'")
        signs.append(_SIGNS[name])
    if n_objectives is not None and len(signs) != n_objectives:
        raise ParetoError(
            f"directions has {len(signs)} entries but the points have {n_objectives} objectives (columns); "
            "give one direction per objective"
        )
    return np.asarray(signs, dtype=float)


def _as_float_array(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a float64 array, or a ParetoError naming the argument."""
    try:
        return np.array(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ParetoError(
            f"{name} must be numeric (convertible to float), got {type(values).__name__}: {error}"
        ) from error


def as_points(points: ArrayLike, name: str = "points") -> np.ndarray:
    """``points`` as a new float64 array of shape (n points, k objectives), n >= 0 and k >= 1.

    Raises:
        ParetoError: not numeric, not two-dimensional, or with zero objectives.
    """
    array = _as_float_array(points, name)
    if array.ndim != 2:
        raise ParetoError(f"{name} must be a 2-D array of shape (n points, k objectives), got shape {array.shape}")
    if array.shape[1] == 0:
        raise ParetoError(f"{name} has zero objectives (shape {array.shape}); give at least one column")
    return array


def to_minimization(points: ArrayLike, directions: Sequence[DirectionLike]) -> np.ndarray:
    """The points in the minimisation frame: column j multiplied by s_j (+1 minimise, -1 maximise).

    Returns a new float64 array of shape (n, k); NaN entries stay NaN. Applying the function twice with
    the same directions gives the points back, so it also converts results from the frame to the
    original directions.
    """
    array = as_points(points)
    return array * direction_signs(directions, array.shape[1])
