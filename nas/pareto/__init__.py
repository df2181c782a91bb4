"""Pareto analysis of multi-objective search results: dominance, fronts, crowding, hypervolume,
and the rank correlation of two scorings (an estimate against the real value).

All functions take points as an n x k array (one row per trial, one column per objective) and the
objectives' directions as a sequence of "minimize"/"maximize". Internally everything works in the
minimisation frame (maximised columns negated, see :mod:`nas.pareto._directions`). Rows with a NaN
objective are never on a front (rank -1) and never add hypervolume. :mod:`nas.pareto._front` applies
the same analysis to pandas DataFrames over any subset of their columns.
"""

from nas.pareto._correlation import kendall_tau, spearman_rho
from nas.pareto._crowding import crowding_distance
from nas.pareto._directions import Direction, DirectionLike, direction_signs, to_minimization
from nas.pareto._dominance import dominates, non_dominated_mask, non_dominated_sort
from nas.pareto._errors import ParetoError
from nas.pareto._front import ParetoFront, hypervolume_history, pareto_front
from nas.pareto.hypervolume import (
    hypervolume,
    hypervolume_contributions,
    ideal_box_volume,
    normalised_hypervolume,
    reference_point,
)

__all__ = [
    "Direction",
    "DirectionLike",
    "ParetoError",
    "ParetoFront",
    "crowding_distance",
    "direction_signs",
    "dominates",
    "hypervolume",
    "hypervolume_contributions",
    "hypervolume_history",
    "ideal_box_volume",
    "kendall_tau",
    "non_dominated_mask",
    "non_dominated_sort",
    "normalised_hypervolume",
    "pareto_front",
    "reference_point",
    "spearman_rho",
    "to_minimization",
]
