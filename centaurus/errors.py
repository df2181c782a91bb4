"""The exceptions of the whole project, under one root.

Every error this project raises on purpose is a :class:`CentaurusError`, so a caller can catch the
project's errors (and only them) with one ``except``. Below it:

* :class:`CentaurusConfigError` (also a ``ValueError``): a bad argument, spec or configuration; the
  message names the field, the bad value and what is allowed. Its families live with their packages:
  ``search_spaces.SpecError`` (specs and spaces), ``nas.study.StudyConfigError`` (study configs),
  ``nas.study.StorageUnavailableError`` / ``StorageRefusedError`` (the study's storage),
  ``nas.errors.TaskConfigError`` / ``DatasetError`` (training settings, data folders),
  ``centaurus.supernet.UnshareableSpaceError`` (a space whose networks cannot share one supernet),
  ``nas.export.ExportError``, ``nas.pareto.ParetoError``, ``nas.report.DashboardError``.
* ``nas.tasks.checkpoint.CheckpointError``: a checkpoint that cannot be continued from; below it
  ``nas.supernet.SupernetCheckpointError`` (a supernet checkpoint of another space, version or run).
"""

from __future__ import annotations


class CentaurusError(Exception):
    """The root of every exception this project raises on purpose."""


class CentaurusConfigError(CentaurusError, ValueError):
    """An invalid argument: the message names the field, the bad value and what is allowed."""
