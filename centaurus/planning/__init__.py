"""Contraction planning: enumerate, price and execute the plans of an SSM layer."""

from centaurus.planning._plan import (
    SPECTRA_CHOICES,
    SPECTRA_POLICIES,
    ContractionPlan,
    PlanStep,
    SpectraChoice,
    SpectraPolicy,
    TensorSpec,
)
from centaurus.planning._planner import (
    DEFAULT_COSTS,
    FLOPS_ONLY,
    FFTKind,
    PlannerCost,
    best_plan_for_tree,
    candidate_plans,
    choose_plan,
    clear_plan_cache,
    fft_flops,
    opt_einsum_tree,
    plan_score,
)
from centaurus.planning.execute import KernelPoles, run_plan
from centaurus.planning.kernel import KernelContraction, contract_kernel, time_blocks

__all__ = [
    "DEFAULT_COSTS",
    "FLOPS_ONLY",
    "SPECTRA_CHOICES",
    "SPECTRA_POLICIES",
    "ContractionPlan",
    "FFTKind",
    "KernelContraction",
    "KernelPoles",
    "PlanStep",
    "PlannerCost",
    "SpectraChoice",
    "SpectraPolicy",
    "TensorSpec",
    "best_plan_for_tree",
    "candidate_plans",
    "choose_plan",
    "clear_plan_cache",
    "contract_kernel",
    "fft_flops",
    "opt_einsum_tree",
    "plan_score",
    "run_plan",
    "time_blocks",
]
