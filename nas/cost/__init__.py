"""Cost of an architecture: the analytic cost model and the measurements it is checked against."""

from nas.cost.measure import (
    FFTCall,
    FFTRecorder,
    StepMeasurement,
    default_loss,
    fft_flops,
    measure_training_step,
)

__all__ = [
    "FFTCall",
    "FFTRecorder",
    "StepMeasurement",
    "default_loss",
    "fft_flops",
    "measure_training_step",
]
