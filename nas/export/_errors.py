"""The exception for a bad export request or a bad export folder."""

from __future__ import annotations

from centaurus.errors import CentaurusConfigError


class ExportError(CentaurusConfigError):
    """An export a user asked for that cannot be done (unknown trial, objective not in the study, a folder that
    is not an export, an untrained export asked for its weights): the message names the field or path, the bad
    value and what is allowed."""
