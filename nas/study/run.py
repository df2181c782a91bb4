"""The library entry point of the search engine: run (or continue) the study a config describes.

``centaurus-nas search``/``resume``, ``centaurus-nas compare`` and the benchmarks all go through
:func:`run_study`; what they print or analyse afterwards reads the returned outcome's study.
"""

from __future__ import annotations

import optuna

from nas.study.backends import TrialBackend
from nas.study.config import StudyConfig
from nas.study.driver import SearchDriver
from nas.study.outcome import SearchOutcome
from nas.study.progress import SearchProgress
from nas.study.stopping import StopOnInterrupt
from nas.study.weight_sharing import WeightSharingDriver


def run_study(
    config: StudyConfig,
    *,
    progress: SearchProgress | None = None,
    backend: TrialBackend | None = None,
    storage: optuna.storages.BaseStorage | None = None,
    stop: StopOnInterrupt | None = None,
) -> SearchOutcome:
    """Run the search ``config`` describes until its budget is used, and return what it did.

    ``progress`` shows events and a status line (default: silent). ``backend`` runs the trials
    (default: Ray, as the config says; see :mod:`nas.study.backends`). ``storage`` replaces the
    config's storage URL with an Optuna storage object (e.g. ``optuna.storages.InMemoryStorage()``).
    ``stop`` (a :class:`~nas.study.stopping.StopOnInterrupt` the caller installed) turns Ctrl-C into a stop
    at the loop's next step, and the outcome's ``stopped_by_user`` is set; without it a ``KeyboardInterrupt``
    raised anywhere in the loop is raised again after the cleanup. Either way the running trials are
    marked interrupted and re-enqueued, for ``resume``.
    Bad input raises :class:`~nas.study.errors.StudyConfigError` before the study is touched.

    The config's ``strategy`` picks the driver: one network trained per trial
    (:class:`~nas.study.driver.SearchDriver`), or one supernet whose estimates are searched and
    whose best are confirmed by ordinary trials (:class:`~nas.study.weight_sharing.WeightSharingDriver`).
    """
    driver = WeightSharingDriver if config.weight_sharing else SearchDriver
    return driver(config, progress=progress, backend=backend, storage=storage, stop=stop).run()
