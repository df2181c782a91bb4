"""``optuna-dashboard`` on a study's storage, as a child process we start, wait for and stop.

optuna-dashboard gives the per-trial drill-down (parameters, user attributes, history, importance)
that our report leaves out; it reads the same storage the driver writes. It runs in its own session
(process group), so a Ctrl-C in the terminal reaches only us and we stop it in order: terminate,
wait, kill only if it does not exit. Its request log goes to a file, not to the terminal.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from centaurus.errors import CentaurusConfigError


class DashboardError(CentaurusConfigError):
    """optuna-dashboard is missing, its port is taken, or it exited before answering (message says which)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def dashboard_executable() -> str:
    """The ``optuna-dashboard`` script of this Python environment, else the first one on PATH."""
    beside = Path(sys.executable).parent / "optuna-dashboard"
    if beside.is_file():
        return str(beside)
    found = shutil.which("optuna-dashboard")
    if found is None:
        raise DashboardError(
            "optuna-dashboard: not installed in this environment; allowed: install it with"
            " `pip install optuna-dashboard`, or use --no-optuna-dashboard to serve only the report"
        )
    return found


def storage_arguments(storage_url: str) -> list[str]:
    """optuna-dashboard's storage arguments for one of our URLs (``journal:PATH`` is a journal file)."""
    if storage_url.startswith("journal:"):
        return [storage_url.removeprefix("journal:"), "--storage-class", "JournalFileStorage"]
    return [storage_url]


@dataclass
class OptunaDashboard:
    """One optuna-dashboard process serving ``storage_url`` on ``host:port`` (port 0: a free one)."""

    storage_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    log_path: Path | None = None
    """Where its output goes (None: discarded)."""
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    def command(self) -> list[str]:
        storage = storage_arguments(self.storage_url)
        return [dashboard_executable(), *storage, "--host", self.host, "--port", str(self.port)]

    def start(self, timeout: float = 60.0) -> OptunaDashboard:
        """Launch it and return once it answers HTTP, or raise with the tail of its log (started once only)."""
        if self.running():
            return self
        if self.port == 0:
            self.port = free_port(self.host)
        elif not _port_is_free(self.host, self.port):
            raise DashboardError(
                f"--port: got {self.port} on {self.host}, which is already in use; allowed: a free port (0 picks one)"
            )
        command = self.command()
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as files:
            output = files.enter_context(self.log_path.open("wb")) if self.log_path else subprocess.DEVNULL
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise DashboardError(f"optuna-dashboard exited with code {code} before serving{self._log_tail()}")
            if _answers(self.url):
                return self
            time.sleep(0.25)
        self.stop()
        raise DashboardError(f"optuna-dashboard did not answer on {self.url} within {timeout:g} s{self._log_tail()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate it (kill if it ignores that for ``timeout`` seconds); returns its exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        return process.returncode

    def __enter__(self) -> OptunaDashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return ""
        tail = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        return f" (log {self.log_path}):\n" + "\n".join(tail) if tail else f" (log {self.log_path} is empty)"


def _answers(url: str) -> bool:
    """Whether ``url`` answers HTTP at all (any status: the server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            response.read(64)
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
