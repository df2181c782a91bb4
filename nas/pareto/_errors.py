"""The exception the Pareto analysis raises for inputs a user can get wrong."""

from __future__ import annotations

from centaurus.errors import CentaurusConfigError


class ParetoError(CentaurusConfigError):
    """An invalid input to the Pareto analysis (directions, point arrays, reference point, frame columns).

    The message names the argument, the bad value and what is allowed. It is a ``ValueError`` (through
    :class:`~centaurus.errors.CentaurusConfigError`), so callers that catch ``ValueError`` still work.
    """
