"""Cost of an architecture: the analytic cost model and the measurements it is checked against."""

from nas.cost._measure import (
    FFTCall,
    FFTRecorder,
    StepMeasurement,
    default_loss,
    fft_flops,
    measure_training_step,
)
from nas.cost.conventions import flop_counter_flops, plan_flop_counter_flops
from nas.cost.formatting import format_quantity, human_bytes, human_count, layer_table, totals
from nas.cost.model import COST_OBJECTIVES, CostReport, LayerCost, Optimizer, score

__all__ = [
    "COST_OBJECTIVES",
    "CostReport",
    "FFTCall",
    "FFTRecorder",
    "LayerCost",
    "Optimizer",
    "StepMeasurement",
    "default_loss",
    "fft_flops",
    "flop_counter_flops",
    "format_quantity",
    "human_bytes",
    "human_count",
    "layer_table",
    "measure_training_step",
    "plan_flop_counter_flops",
    "score",
    "totals",
]
