"""Centaurus state-space layers: SSMs as optimally planned tensor contractions, with exact streaming."""

from centaurus.errors import CentaurusConfigError, CentaurusError
from centaurus.layer import SSMLayer
from centaurus.modes import EXPRESSIONS, MODES, Mode, ModeExpression
from centaurus.planning import ContractionPlan, PlanStep, candidate_plans, choose_plan
from centaurus.policy import (
    DEFAULT_POLICY,
    ONNX_POLICY,
    TRACE_POLICY,
    ExecutionPolicy,
    execution_policy,
    restore_execution_policy,
    set_execution_policy,
)
from centaurus.post import ACTIVATIONS, NORMS, PostLayer
from centaurus.streaming import SSMStream

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_POLICY",
    "EXPRESSIONS",
    "MODES",
    "NORMS",
    "ONNX_POLICY",
    "TRACE_POLICY",
    "CentaurusConfigError",
    "CentaurusError",
    "ContractionPlan",
    "ExecutionPolicy",
    "Mode",
    "ModeExpression",
    "PlanStep",
    "PostLayer",
    "SSMLayer",
    "SSMStream",
    "candidate_plans",
    "choose_plan",
    "execution_policy",
    "restore_execution_policy",
    "set_execution_policy",
]
