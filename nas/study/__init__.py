"""The search engine: study configs, the driver asking Optuna and running trials on a backend, resume and status.

``run_study(config)`` runs (or continues) a study; the pieces it is made of are modules of their own:
the loop (``driver``), where trials run (``backends``), multi-fidelity promotions (``scheduler``),
owners and heartbeats (``liveness``), what travels to a worker and back (``requests``), the status line
(``progress``), Ctrl-C (``stopping``) and the weight-sharing strategy (``weight_sharing``: one supernet,
estimates, stand-alone confirmations).
"""

from nas.study.backends import InProcessBackend, RayBackend, TrialBackend
from nas.study.config import Constraint, FidelityConfig, Objective, Resources, SamplerConfig, StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.outcome import SearchOutcome
from nas.study.progress import SearchProgress, SearchStatus
from nas.study.requests import TrialRequest, TrialResult
from nas.study.run import run_study
from nas.study.stopping import StopOnInterrupt

__all__ = [
    "Constraint",
    "FidelityConfig",
    "InProcessBackend",
    "Objective",
    "RayBackend",
    "Resources",
    "SamplerConfig",
    "SearchOutcome",
    "SearchProgress",
    "SearchStatus",
    "StopOnInterrupt",
    "StudyConfig",
    "StudyConfigError",
    "TrialBackend",
    "TrialRequest",
    "TrialResult",
    "run_study",
]
