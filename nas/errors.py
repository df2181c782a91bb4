"""The exceptions the platform raises for problems a user can cause (bad data folders, bad budgets)."""

from __future__ import annotations

from centaurus.errors import CentaurusConfigError


class DatasetError(CentaurusConfigError):
    """A dataset folder that is missing or does not have the expected layout.

    The message names the folder, what is wrong, and shows the layout the loader expects.
    """


class TaskConfigError(CentaurusConfigError):
    """An invalid training or evaluation setting (budget, batch size, task): names the field and what is allowed."""
