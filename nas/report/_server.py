"""The live report: our HTML page served over HTTP and rebuilt whenever more trials have finished.

A poller thread counts the study's finished trials (complete, pruned, failed) every few seconds and
re-renders the page when the count changes; rendering reads the whole study, so it is not done on
every request. The served page asks ``/version`` on the same interval and reloads itself only when
the version changed, so a reader's zoom and scroll survive while nothing new happened. Only the
standard library serves (``http.server`` in a daemon thread): nothing to install on a cluster head node.

Routes: ``/`` (also ``/index.html``, ``/report.html``) the page, ``/version`` its version, and
``/trials.csv`` the trials table of that version.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import optuna
from optuna.trial import TrialState

from nas.report._data import collect
from nas.report._page import LiveOptions, render_page
from nas.report.build import table_for_files
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError

FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@dataclass(frozen=True)
class _Snapshot:
    """One rendered version of the report (immutable, so request threads can read it without locking)."""

    version: str
    finished: int
    page: bytes
    csv: bytes


def finished_trials(study: optuna.Study) -> int:
    """How many trials have finished (complete, pruned or failed): what makes a new report worth rendering."""
    return len(study.get_trials(deepcopy=False, states=FINISHED_STATES))


class ReportServer:
    """Serves the live report of ``study`` on ``host:port`` (port 0: any free port) until :meth:`stop`.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. :meth:`refresh` re-renders at
    once when the finished-trial count changed (the poller calls it every ``interval`` seconds).
    """

    def __init__(
        self,
        study: optuna.Study,
        config: StudyConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 8081,
        interval: float = 5.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise StudyConfigError(f"--interval: got {interval!r}; allowed: a number of seconds > 0")
        self.study = study
        self.config = config
        self.host = host
        self.requested_port = port
        self.interval = interval
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.renders = 0
        self.last_error: str | None = None
        self._snapshot: _Snapshot | None = None
        self._render_lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._bound_port: int | None = None
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------------------- lifecycle
    def start(self) -> ReportServer:
        """Render the first version, bind the port and start serving and polling (both in daemon threads).

        Calling it again while serving does nothing (``with server.start() as s`` is fine)."""
        if self._server is not None:
            return self
        with self._render_lock:
            self._render(finished_trials(self.study))
        try:
            self._server = ThreadingHTTPServer((self.host, self.requested_port), self._handler_class())
        except OSError as error:
            raise StudyConfigError(
                f"--report-port: got {self.requested_port} on {self.host}, which cannot be used ({error.strerror});"
                " allowed: a free port (0 picks one)"
            ) from error
        self._server.daemon_threads = True
        self._bound_port = int(self._server.server_address[1])
        self._stop.clear()
        serve = threading.Thread(target=self._server.serve_forever, name="report-http", daemon=True)
        poll = threading.Thread(target=self._poll, name="report-poller", daemon=True)
        self._threads = [serve, poll]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop polling and serving; returns once both threads have ended."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=max(10.0, 2 * self.interval))
        self._threads = []

    def __enter__(self) -> ReportServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the chosen one when started with port 0), also after :meth:`stop`."""
        return self._bound_port if self._bound_port is not None else self.requested_port

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    @property
    def version(self) -> str:
        return self._snapshot.version if self._snapshot is not None else ""

    # ------------------------------------------------------------------------------ content
    def refresh(self) -> bool:
        """Re-render if the number of finished trials changed since the last render; True when it did."""
        with self._render_lock:  # the poller and a caller may both refresh: render each change once
            finished = finished_trials(self.study)
            if self._snapshot is not None and finished == self._snapshot.finished:
                return False
            self._render(finished)
            return True

    def _render(self, finished: int) -> None:
        """Build a new snapshot (the caller holds the render lock); requests see the old one until it is swapped in."""
        version = f"{self.renders + 1}-{finished}"
        data = collect(self.study, self.config)
        page = render_page(data, LiveOptions(version=version, interval_seconds=self.interval))
        csv = table_for_files(data).to_csv(index=False)
        self._snapshot = _Snapshot(version, finished, page.encode("utf-8"), csv.encode("utf-8"))
        self.renders += 1

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.refresh():
                    self.log(f"report: re-rendered, version {self.version}")
                self.last_error = None
            except Exception as error:  # a transient storage error must not end the live view; it is shown
                message = f"report: could not refresh ({type(error).__name__}: {error}); serving the last version"
                if message != self.last_error:
                    self.log(message)
                self.last_error = message

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def _answer(self, body: bool) -> None:
                snapshot = server._snapshot
                path = self.path.split("?", 1)[0]
                if snapshot is None:
                    status, content, kind = HTTPStatus.SERVICE_UNAVAILABLE, b"starting\n", "text/plain"
                elif path in ("/", "/index.html", "/report.html"):
                    status, content, kind = HTTPStatus.OK, snapshot.page, "text/html; charset=utf-8"
                elif path == "/version":
                    status, content, kind = HTTPStatus.OK, snapshot.version.encode(), "text/plain; charset=utf-8"
                elif path == "/trials.csv":
                    status, content, kind = HTTPStatus.OK, snapshot.csv, "text/csv; charset=utf-8"
                else:
                    status, content, kind = HTTPStatus.NOT_FOUND, b"not found: try /\n", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:
                """Requests are not logged: the page polls ``/version`` every few seconds."""

        return _Handler
