"""Centaurus state-space layers: SSMs as optimally planned tensor contractions, with exact streaming."""

from centaurus.errors import CentaurusConfigError
from centaurus.layer import SSMLayer
from centaurus.modes import EXPRESSIONS, MODES, Mode, ModeExpression
from centaurus.planning import ContractionPlan, PlanStep, candidate_plans, choose_plan
from centaurus.post import ACTIVATIONS, NORMS, PostLayer
from centaurus.streaming import SSMStream

__all__ = [
    "ACTIVATIONS",
    "EXPRESSIONS",
    "MODES",
    "NORMS",
    "CentaurusConfigError",
    "ContractionPlan",
    "Mode",
    "ModeExpression",
    "PlanStep",
    "PostLayer",
    "SSMLayer",
    "SSMStream",
    "candidate_plans",
    "choose_plan",
]
