"""The search engine: study configs, the Optuna driver executing trials on Ray, resume and status."""

from nas.study.config import Constraint, FidelityConfig, Objective, Resources, SamplerConfig, StudyConfig
from nas.study.errors import StudyConfigError

__all__ = [
    "Constraint",
    "FidelityConfig",
    "Objective",
    "Resources",
    "SamplerConfig",
    "StudyConfig",
    "StudyConfigError",
]
