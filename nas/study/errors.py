"""The exception for an invalid study configuration."""

from __future__ import annotations

from centaurus.errors import CentaurusConfigError


class StudyConfigError(CentaurusConfigError):
    """An invalid study config: the message names the field, the bad value and what is allowed."""
