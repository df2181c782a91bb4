"""The exception users see when they pass a bad argument, spec or configuration."""

from __future__ import annotations


class CentaurusConfigError(ValueError):
    """An invalid argument: the message names the field, the bad value and what is allowed."""
