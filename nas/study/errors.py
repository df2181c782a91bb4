"""The exception for an invalid study configuration."""

from __future__ import annotations

from centaurus.errors import CentaurusConfigError


class StudyConfigError(CentaurusConfigError):
    """An invalid study config: the message names the field, the bad value and what is allowed."""


class StorageUnavailableError(CentaurusConfigError):
    """The study's storage stayed unreachable longer than the driver waits for it.

    Everything told before the outage is stored; the message says how to continue (``resume``).
    """


class StorageRefusedError(CentaurusConfigError):
    """The study's storage is reachable but refuses to work (disk full, read-only, not a database).

    Waiting does not help, so the driver stops at once; the message names the cause and what to do.
    """
