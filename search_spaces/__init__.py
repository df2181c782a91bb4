"""Search spaces and architecture specs for Centaurus networks (what a search can sample).

:class:`Architecture` is one network as plain, validated, serialisable data;
:class:`SearchSpace` holds per-stage :class:`StageChoices` and draws architectures from an Optuna
trial or a seeded ``random.Random``; :func:`builtin_space` gives the ready-made spaces.
"""

from search_spaces._builtin import builtin_space, register_space, space_names, unregister_space
from search_spaces._errors import SpecError
from search_spaces._space import ENUMERATE_LIMIT, SHAREABLE_FIELDS, CategoricalTrial, SearchSpace
from search_spaces._spec import STAGE_FIELDS, Architecture, FrontendSpec, InputSpec, OutputSpec, Stage
from search_spaces.choices import StageChoices

__all__ = [
    "BUILTIN_SPACES",
    "ENUMERATE_LIMIT",
    "SHAREABLE_FIELDS",
    "STAGE_FIELDS",
    "Architecture",
    "CategoricalTrial",
    "FrontendSpec",
    "InputSpec",
    "OutputSpec",
    "SearchSpace",
    "SpecError",
    "Stage",
    "StageChoices",
    "builtin_space",
    "register_space",
    "space_names",
    "unregister_space",
]


def __getattr__(name: str) -> tuple[str, ...]:
    """``BUILTIN_SPACES``: every registered space name, computed on access (spaces may be registered later)."""
    if name == "BUILTIN_SPACES":
        return space_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
