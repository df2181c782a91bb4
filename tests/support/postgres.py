"""PostgreSQL for the storage tests: a throw-away server the tests own, or one the user points them at.

A throw-away server is a fresh cluster under ``build/postgres-test/<pid>-<token>/`` (ignored by git),
made by the installed ``initdb`` and run by ``pg_ctl``: trust authentication, listening on
127.0.0.1 only at a free port, its Unix socket in a private temporary folder, durability switched
off (a test database need not survive a power cut, and fsync is the slowest part of a test).
The port and settings are fixed at ``initdb`` time, so :meth:`PostgresServer.stop` and
:meth:`PostgresServer.start` can be repeated on the same data: a test can take the database away
in the middle of a search and bring it back with the same URL and the same studies.

PostgreSQL refuses to run as root, so when this process is root every server binary runs as the
``postgres`` system user (``runuser``), which then owns the cluster's folder; a folder that user
cannot reach makes us fall back to the system's temporary folder.

A server somebody else runs (:class:`ExternalPostgres`, from ``$CENTAURUS_TEST_POSTGRES_URL``) is
used as it is: the tests create and drop their own databases on it, and never stop or start it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from nas.study.liveness import pid_alive

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO / "build" / "postgres-test"
SYSTEM_USER = "postgres"
"""The account the server binaries run as when this process is root (Debian's packages create it)."""
SUPERUSER = "postgres"
"""The database superuser ``initdb`` creates; trust authentication lets the tests connect as it."""
SOCKET_DIR_FILE = "socket-dir"
"""File in a cluster's folder naming its socket folder (which lives in /tmp, where paths are short)."""
StopMode = Literal["smart", "fast", "immediate"]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL to test against on this machine (tests skip, or fail on CI)."""


class PostgresError(RuntimeError):
    """PostgreSQL is installed but a server command failed (always a test error: something is broken)."""


@dataclass(frozen=True)
class PostgresBinaries:
    initdb: Path
    pg_ctl: Path

    @property
    def version(self) -> str:
        return subprocess.run([str(self.pg_ctl), "--version"], capture_output=True, text=True).stdout.strip()


def find_binaries() -> PostgresBinaries | None:
    """``initdb`` and ``pg_ctl`` from PATH, else from the newest ``/usr/lib/postgresql/*/bin`` (where
    Debian puts them, off PATH). Links are resolved: ``pg_ctl`` finds ``postgres`` beside itself."""
    on_path = [shutil.which(name) for name in ("initdb", "pg_ctl")]
    if all(on_path):
        initdb, pg_ctl = (Path(found).resolve() for found in on_path if found)
        return PostgresBinaries(initdb=initdb, pg_ctl=pg_ctl)

    def major(folder: Path) -> tuple[int, str]:
        name = folder.parent.name
        return (int(name) if name.isdigit() else -1, name)

    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return PostgresBinaries(initdb=folder / "initdb", pg_ctl=folder / "pg_ctl")
    return None


def database_name(hint: str) -> str:
    """A fresh, valid database name that still says which test made it (a leftover on a shared
    server can then be traced back)."""
    stem = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")[:40]
    return f"centaurus_test_{stem}_{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def blocking_directory(path: Path, user: str) -> Path | None:
    """The first folder on the way from ``/`` to ``path`` that ``user`` may not enter (no search
    permission for it by owner, group or others; ACLs are not read), else ``None``."""
    account = pwd.getpwnam(user)
    groups = set(os.getgrouplist(user, account.pw_gid))
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            break  # created by us below an enterable folder, with modes we choose
        info = folder.stat()
        if info.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return folder
    return None


class Postgres:
    """What the storage tests need from any PostgreSQL server: URLs, and databases to put studies in."""

    can_restart: bool = False
    """Whether :meth:`stop`/:meth:`start` may be used (only on a server the tests started)."""

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy/Optuna storage URL of ``database`` on this server."""
        raise NotImplementedError

    def _connect_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def connect(self, database: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        """An autocommit connection (CREATE/DROP DATABASE cannot run in a transaction)."""
        arguments = {**self._connect_kwargs(), "dbname": database or "postgres"}
        return psycopg.connect(autocommit=True, connect_timeout=10, **arguments)

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its storage URL."""
        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections a test left open to it (PostgreSQL 13+)."""
        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def discard_database(self, name: str) -> None:
        """Called when a test is done with ``name``."""
        self.drop_database(name)

    def reachable(self) -> bool:
        try:
            with self.connect() as connection:
                connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def start(self) -> None:
        raise PostgresError(f"{self}: not started by the tests, so they never start or stop it (can_restart=False)")

    def stop(self, mode: StopMode = "fast") -> None:
        raise PostgresError(f"{self}: not started by the tests, so they never start or stop it (can_restart=False)")

    def ensure_running(self) -> None:
        """Make the server answer again after a test stopped it (a no-op where it cannot be restarted)."""

    def close(self) -> None:
        """Release the server at the end of the session."""


class ExternalPostgres(Postgres):
    """A server the user runs, given by a URL whose role may create databases (e.g. the superuser)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.drivername in ("postgres", "postgresql"):
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, which this package installs
        if not parsed.drivername.startswith("postgresql"):
            raise PostgresError(
                f"CENTAURUS_TEST_POSTGRES_URL: got {url!r}; allowed: postgresql://USER[:PW]@HOST[:PORT]/DB"
            )
        self._url: URL = parsed

    def __repr__(self) -> str:
        return f"ExternalPostgres({self._url.render_as_string(hide_password=True)!r})"

    def url(self, database: str = "postgres") -> str:
        return self._url.set(database=database).render_as_string(hide_password=False)

    def _connect_kwargs(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {"host": self._url.host or "localhost", "user": self._url.username}
        if self._url.port:
            arguments["port"] = self._url.port
        if self._url.password:
            arguments["password"] = self._url.password
        return arguments

    def connect(self, database: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        """To the URL's own database by default: the role may have no access to ``postgres``."""
        return super().connect(database or self._url.database or "postgres")


class PostgresServer(Postgres):
    """A throw-away cluster: made by the first :meth:`start`, deleted by :meth:`close`.

    ``start()`` and ``stop()`` may alternate any number of times; the port, the data and therefore
    every URL handed out stay the same.
    """

    can_restart = True

    def __init__(self, binaries: PostgresBinaries, root: Path = DEFAULT_ROOT) -> None:
        self.binaries = binaries
        self.fallback_reason: str | None = None  # why the cluster is not under build/ (None when it is)
        self.as_user = SYSTEM_USER if os.geteuid() == 0 else None
        if self.as_user is not None:
            try:
                pwd.getpwnam(self.as_user)
            except KeyError as error:
                raise PostgresUnavailable(
                    f"running as root, and PostgreSQL refuses root: no {self.as_user!r} user to run it as"
                    " (the Debian package creates it: apt-get install postgresql)"
                ) from error
            if shutil.which("runuser") is None:
                raise PostgresUnavailable(
                    "running as root, and PostgreSQL refuses root: runuser (util-linux) is missing"
                )
            blocked = blocking_directory(root, self.as_user)
            if blocked is not None:
                root = Path(tempfile.gettempdir()) / "centaurus-postgres-test"  # /tmp: enterable by everyone
                self.fallback_reason = f"{blocked} is not enterable by {self.as_user!r}; using {root}"
        self.root = root
        self.port = free_port()
        self.run_dir = root / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.data_dir = self.run_dir / "data"
        self.log_path = self.run_dir / "server.log"
        self.socket_dir: Path | None = None
        self._initialised = False
        self._closed = False

    def __repr__(self) -> str:
        return f"PostgresServer(port={self.port}, data={self.data_dir})"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _connect_kwargs(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "user": SUPERUSER}

    def discard_database(self, name: str) -> None:
        """Nothing: the whole cluster is deleted at the end, which is cheaper than dropping each database."""

    # ------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the server and wait until it accepts connections (making the cluster the first time);
        nothing to do when it already runs."""
        if self._closed:
            raise PostgresError(f"{self}: already closed")
        if not self._initialised:
            self._initdb()
        if self.is_running():
            return
        for attempt in range(3):
            result = self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_path), new_session=True)
            if result.returncode == 0:
                return
            if attempt < 2 and "could not bind" in self.log_tail() and not self.is_running():
                self.port = free_port()  # taken between choosing it and the first start: only before any URL is used
                self._write_settings()
                continue
            break
        raise PostgresError(
            f"pg_ctl start failed ({result.returncode}): {result.stdout}{result.stderr}\n{self.log_tail()}"
        )

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions and disconnect clients, like an
        operator's restart; ``immediate``: like a crash). Nothing to do when it is not running."""
        if not self._initialised or not self.is_running():
            return
        result = self._pg_ctl("stop", "-w", "-t", "60", "-m", mode)
        if result.returncode != 0 and self.is_running():
            raise PostgresError(f"pg_ctl stop failed ({result.returncode}): {result.stdout}{result.stderr}")

    def ensure_running(self) -> None:
        self.start()

    def is_running(self) -> bool:
        """``pg_ctl status``: 0 when a server runs on the data folder, 3 when none does."""
        return self._initialised and self._pg_ctl("status").returncode == 0

    def close(self) -> None:
        """Stop the server (immediately: its data is about to go) and delete its folders. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            if self.socket_dir is not None:
                shutil.rmtree(self.socket_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.root.rmdir()  # only when no other session's cluster is left in it

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --------------------------------------------------------------------------------- helpers

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the server's user must pass through it
        sweep_stale(self.root, self.binaries)
        self.run_dir.mkdir(mode=0o700, parents=True)  # parents: another session's close() may just have removed root
        self.socket_dir = Path(tempfile.mkdtemp(prefix="centaurus-pg-"))  # short: socket paths are limited to ~100
        (self.run_dir / SOCKET_DIR_FILE).write_text(str(self.socket_dir))  # for sweep_stale, should we be killed
        atexit.register(self.close)  # if the session ends without its finalizer (an error in another fixture)
        if self.as_user is not None:
            account = pwd.getpwnam(self.as_user)
            for folder in (self.run_dir, self.socket_dir):
                os.chown(folder, account.pw_uid, account.pw_gid)
        result = self._run(
            [
                str(self.binaries.initdb),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",  # the default pg_hba.conf: the Unix socket and loopback addresses only
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise PostgresError(f"initdb failed ({result.returncode}): {result.stdout}{result.stderr}")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude 'centaurus-test.conf'\n")
        self._write_settings()
        self._initialised = True

    def _write_settings(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_connections": "100",
        }
        path = self.data_dir / "centaurus-test.conf"
        path.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        if self.as_user is not None:
            account = pwd.getpwnam(self.as_user)
            os.chown(path, account.pw_uid, account.pw_gid)

    def _pg_ctl(self, *arguments: str, new_session: bool = False) -> subprocess.CompletedProcess[str]:
        # A session of its own: Ctrl-C in the terminal reaches pytest (which stops the server in its
        # finalizer), not the postmaster.
        return self._run([str(self.binaries.pg_ctl), "-D", str(self.data_dir), *arguments], new_session=new_session)

    def _run(self, command: list[str], new_session: bool = False) -> subprocess.CompletedProcess[str]:
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=self.run_dir,  # the server's user can enter it (unlike, say, /root)
            start_new_session=new_session,
            timeout=120,
        )


def sweep_stale(root: Path, binaries: PostgresBinaries) -> None:
    """Stop and delete clusters under ``root`` left by test sessions that were killed (their folder
    names start with the dead process's id), so a SIGKILLed pytest does not leak a server for ever."""
    for folder in root.glob("*-*"):
        pid = folder.name.split("-", 1)[0]
        if not pid.isdigit() or pid_alive(int(pid)):
            continue
        data = folder / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(OSError, KeyError, subprocess.SubprocessError):
                owner = pwd.getpwuid(data.stat().st_uid).pw_name
                command = [str(binaries.pg_ctl), "-D", str(data), "stop", "-m", "immediate", "-w"]
                if os.geteuid() == 0 and owner != "root":
                    command = ["runuser", "-u", owner, "--", *command]
                subprocess.run(command, capture_output=True, cwd=folder, timeout=60, check=False)
        with contextlib.suppress(OSError):
            sockets = Path((folder / SOCKET_DIR_FILE).read_text().strip())
            if sockets.parent == Path(tempfile.gettempdir()) and sockets.name.startswith("centaurus-pg-"):
                shutil.rmtree(sockets, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
