"""Opening the Optuna study behind a config: SQLite by default, PostgreSQL or a journal file on request.

Dashboards and ``status`` read the same storage while drivers write it (SQLite handles one
writer and many readers; PostgreSQL handles several drivers on one study). Database storages are
wrapped in :class:`~nas.study.resilient.ResilientStorage`, so a server restart or a network blip
during a search is waited out instead of ending it.
"""

from __future__ import annotations

import random
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.storages._cached_storage import _CachedStorage  # what Optuna wraps an RDBStorage in itself

from nas.study.config import SamplerConfig, StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.resilient import ResilientStorage, refused_error

_CONNECT_TIMEOUT = 10  # seconds to reach a database server before calling its URL unreachable
_SCHEMA_ATTEMPTS = 5  # tries to open a database whose schema another driver is creating right now

_SCHEMA_RACE_SIGNS = ("already exists", "duplicate key", "UNIQUE constraint failed: alembic_version")
"""What the loser of two processes creating one database's schema sees (PostgreSQL, SQLite)."""

CONFIG_ATTR = "centaurus_config"
"""Study user attribute holding the config (plain data), so ``resume``/``status`` need only the storage."""


def make_storage(url: str, *, on_retry: Callable[[str], None] | None = None) -> optuna.storages.BaseStorage:
    """``journal:PATH`` is an append-only journal file (good on network file systems); anything else
    is an SQLAlchemy URL for :class:`optuna.storages.RDBStorage`, cached like Optuna caches it and
    retried on connection failures (``on_retry`` hears of each retry).

    Opening does not retry: a URL that points nowhere fails now, with the reason, within
    ``_CONNECT_TIMEOUT`` seconds.
    """
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:"))
        _make_parent(path, url)
        try:
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        except OSError as error:
            raise StudyConfigError(f"storage: cannot open {url!r} ({error}); allowed: a writable file path") from error
    if url.startswith("sqlite:///"):
        _make_parent(Path(url.removeprefix("sqlite:///")), url)
        _check_sqlite_file(Path(url.removeprefix("sqlite:///").partition("?")[0]), url)
    if url.startswith("sqlite"):
        engine: dict[str, Any] = {"connect_args": {"timeout": 60}}
    else:
        engine = {"pool_pre_ping": True}
        if url.startswith(("postgresql", "postgres")):
            engine["connect_args"] = {"connect_timeout": _CONNECT_TIMEOUT}
    try:
        database = _open_database(url, engine)
    except Exception as error:  # SQLAlchemy raises many types; all mean "cannot use this storage"
        refused = refused_error(repr(redact(url)), error)
        if refused is not None:
            raise refused from error
        headline = (str(error).strip().splitlines() or [""])[0]
        raise StudyConfigError(
            f"storage: cannot open {redact(url)!r} ({type(error).__name__}: {headline});"
            " allowed: a reachable database URL (check host, port, user, database and driver) or a SQLite file"
        ) from error
    # Its abstract methods are forwarded to the wrapped storage when nas.study.resilient is imported.
    return ResilientStorage(  # type: ignore[abstract]
        _CachedStorage(database), description=redact(url), on_retry=on_retry
    )


_EMPTY_FILE_GRACE_SECONDS = 30.0
"""A 0-byte SQLite file younger than this is a database another driver is creating right now."""


def _check_sqlite_file(path: Path, url: str) -> None:
    """Refuse an existing file that is not an Optuna database, rather than make a new study in it.

    SQLite treats an empty file as an empty database, so a study.db truncated to 0 bytes (a full
    disk, a failed copy) would silently become a new, empty study, and ``resume`` would then
    overwrite the old tables; a database of another program would get Optuna's tables added.
    """
    import sqlite3

    try:
        stat = path.stat()
    except OSError:
        return  # not there yet: a new study
    allowed = "an Optuna SQLite database, or a path where no file exists yet (a new study)"
    if stat.st_size == 0:
        if time.time() - stat.st_mtime < _EMPTY_FILE_GRACE_SECONDS:
            return  # created a moment ago by a driver starting together with this one
        raise StudyConfigError(
            f"storage: got {url!r}, an empty (0-byte) file, which is not an Optuna database (a study's database is"
            f" never empty: was it truncated?); allowed: {allowed}; remove the empty file to start a new study"
        )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        message = f"storage: got {url!r}, which SQLite cannot read ({error}); allowed: {allowed}"
        raise StudyConfigError(message) from error
    if tables and "studies" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StudyConfigError(
            f"storage: got {url!r}, an SQLite database of something else (tables {shown}); allowed: {allowed}"
        )


def _open_database(url: str, engine: dict[str, Any]) -> optuna.storages.RDBStorage:
    """Open (and on first use, create the tables of) an Optuna database.

    Processes opening an empty database together (drivers started at once, or a dashboard polling a
    study whose driver is starting) race to create its schema, and the losers see "already exists"
    errors (table creation checks, then creates: not atomic, in PostgreSQL or SQLite), or a unique
    violation when both stamp the schema version; by the time they retry, the winner has finished,
    so a short wait and a retry succeed.
    """
    import sqlalchemy.exc

    for attempt in range(_SCHEMA_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine)
        except (
            sqlalchemy.exc.ProgrammingError,
            sqlalchemy.exc.IntegrityError,
            sqlalchemy.exc.OperationalError,
        ) as error:
            if not any(sign in str(error) for sign in _SCHEMA_RACE_SIGNS):
                raise
            if attempt == _SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.2 + random.random() * (attempt + 1))
    raise AssertionError("unreachable")


def file_folder(url: str) -> Path | None:
    """The folder holding a file storage (SQLite or journal), where its study's stored paths start;
    ``None`` for a database server."""
    for prefix in ("sqlite:///", "journal:"):
        if url.startswith(prefix):
            return Path(url.removeprefix(prefix)).resolve().parent
    return None


def _missing_file(url: str) -> bool:
    """A file storage (SQLite or journal) whose file does not exist: looking at it must not create it."""
    for prefix in ("sqlite:///", "journal:"):
        if url.startswith(prefix):
            return not Path(url.removeprefix(prefix)).is_file()
    return False


def _make_parent(path: Path, url: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StudyConfigError(
            f"storage: cannot open {url!r} (cannot create {str(path.parent)!r}: {error.strerror or error});"
            " allowed: a file in a folder you can write"
        ) from error


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number``'s draws: trial 0 draws with the config's seed itself."""
    return (seed + number * 1_000_003) % 2**32


def _reseed(sampler: optuna.samplers.BaseSampler, seed: int) -> None:
    """Seed every random state of an Optuna sampler (its own and its fallback random sampler's)."""
    for owner in (sampler, getattr(sampler, "_random_sampler", None)):
        state = getattr(owner, "_rng", None)
        if state is not None and hasattr(state, "rng"):
            state.rng.seed(seed)


def _seeded_per_trial(sampler: optuna.samplers.BaseSampler, seed: int) -> optuna.samplers.BaseSampler:
    """Make ``sampler`` draw each trial from :func:`trial_seed` of its trial number.

    A sampler seeded once replays the same draws in every process that creates it: a resumed
    driver would ask the first run's architectures again, and drivers started together would ask
    the same ones. Trial numbers are unique in a study (storage assigns them), so seeding each trial
    by its number keeps the results reproducible per seed and makes every driver draw differently.
    """
    before_trial = sampler.before_trial

    def seeded_before_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        _reseed(sampler, trial_seed(seed, trial.number))
        before_trial(study, trial)

    sampler.before_trial = seeded_before_trial  # type: ignore[method-assign]
    return sampler


def make_sampler(config: SamplerConfig, objectives: int) -> optuna.samplers.BaseSampler:
    return _seeded_per_trial(_make_sampler(config, objectives), config.seed)


def _make_sampler(config: SamplerConfig, objectives: int) -> optuna.samplers.BaseSampler:
    options = dict(config.options)
    try:
        if config.name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=config.seed, **options)
        if config.name == "nsga3":
            return optuna.samplers.NSGAIIISampler(seed=config.seed, **options)
        if config.name == "tpe":
            return optuna.samplers.TPESampler(seed=config.seed, multivariate=True, **options)
        if config.name == "gp":
            return optuna.samplers.GPSampler(seed=config.seed, **options)
        return optuna.samplers.RandomSampler(seed=config.seed, **options)
    except TypeError as error:
        raise StudyConfigError(f"sampler.options: got {options!r}, which {config.name} rejects ({error})") from error


def open_study(
    config: StudyConfig,
    *,
    on_retry: Callable[[str], None] | None = None,
    storage: optuna.storages.BaseStorage | None = None,
) -> optuna.Study:
    """Create the study, or load it when it exists (same name, same storage): the basis of resume.

    ``storage``: an Optuna storage to use instead of the config's URL (e.g. in memory, for simulations).
    """
    storage = storage if storage is not None else make_storage(config.storage_url, on_retry=on_retry)
    sampler = make_sampler(config.sampler, len(config.objectives))
    study = optuna.create_study(
        storage=storage,
        sampler=sampler,
        study_name=config.name,
        directions=config.directions,
        load_if_exists=True,
    )
    existing = [direction.name.lower() for direction in study.directions]
    stored_names = study.metric_names
    if stored_names is not None and list(stored_names) != config.objective_names:
        raise StudyConfigError(
            f"objectives: the stored study {config.name!r} has objectives {list(stored_names)}, the config"
            f" {config.objective_names}; allowed: the same objectives as when the study was created"
            " (or a new study name)"
        )
    if existing != config.directions:
        raise StudyConfigError(
            f"objectives: the stored study {config.name!r} has directions {existing}, the config {config.directions};"
            " allowed: the same objectives as when the study was created (or a new study name)"
        )
    with warnings.catch_warnings():  # experimental in Optuna 5, and exactly what dashboards need
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(config.objective_names)
    study.set_user_attr(CONFIG_ATTR, config.to_dict(stored_in=file_folder(config.storage_url)))
    return study


def load_existing_study(config: StudyConfig) -> optuna.Study:
    """The stored study of ``config``, without ever creating an empty SQLite file or study on the way."""
    url = config.storage_url
    if _missing_file(url):
        raise StudyConfigError(
            f"study: got {config.name!r}, whose storage {url!r} does not exist yet;"
            f" allowed: a study that has started (run `centaurus-nas search` on its config first)"
        )
    try:
        return optuna.load_study(study_name=config.name, storage=make_storage(url))
    except KeyError as error:
        raise StudyConfigError(
            f"study: got {config.name!r}, which is not in {redact(url)!r} yet; allowed: a study that has started"
            " (run `centaurus-nas search` on its config first)"
        ) from error


def find_config(reference: str | Path) -> StudyConfig:
    """The config of a study given its YAML file, its output folder (holding ``config.yaml``), or
    ``STORAGE_URL#NAME``."""
    text = str(reference)
    if ("#" in text and "://" in text) or text.startswith("journal:"):
        url, _, name = text.partition("#")
        if _missing_file(url):
            raise StudyConfigError(
                f"study: got {text!r}, but {url.split(':', 1)[1].removeprefix('///')!r} does not exist;"
                " allowed: STORAGE_URL#STUDY_NAME of an existing study"
            )
        storage = make_storage(url)
        try:
            study = optuna.load_study(study_name=name or None, storage=storage)
        except (KeyError, ValueError) as error:
            raise StudyConfigError(f"study: no study {name!r} in {redact(url)!r} ({error})") from error
        data = study.user_attrs.get(CONFIG_ATTR)
        if data is None:
            raise StudyConfigError(
                f"study: {name!r} in {redact(url)!r} was not created by centaurus-nas (no config stored)"
            )
        data = {**data, "storage": url}  # the URL the user gave (with its password, if any: none is stored)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the user typed this URL: no warning about it
            return StudyConfig.from_dict(data, base=file_folder(url))  # a copied folder's file: the copy
    path = Path(text)
    if path.is_dir():
        path = path / "config.yaml"
    if not path.is_file():
        raise StudyConfigError(
            f"study: got {text!r}; allowed: a study config (.yaml), a study's output folder holding config.yaml,"
            " or STORAGE_URL#STUDY_NAME"
        )
    return StudyConfig.load(path)
