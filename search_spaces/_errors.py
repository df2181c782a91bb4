"""The exception raised for an invalid architecture spec or search space."""

from __future__ import annotations

from centaurus.errors import CentaurusConfigError


class SpecError(CentaurusConfigError):
    """An invalid spec or space; the message names the location, the field, the bad value and what is allowed.

    A subclass of :class:`centaurus.errors.CentaurusConfigError` (itself a ``ValueError``) so that
    callers catching configuration errors project-wide also catch spec errors.
    """
