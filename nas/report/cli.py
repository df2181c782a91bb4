"""``centaurus-nas report | dashboard``: a study as an offline HTML report, or live while it runs."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import webbrowser
from pathlib import Path

from nas.report._dashboard import OptunaDashboard
from nas.report._data import load_study
from nas.report._server import ReportServer
from nas.report.build import default_folder, write_report
from nas.study.storage import find_config, redact

_WHERE = "a study config, its output folder, or STORAGE_URL#STUDY_NAME"


def _report_command(args: argparse.Namespace) -> int:
    config = find_config(args.study)
    study = load_study(config)
    folder = Path(args.out) if args.out else default_folder(config)
    files = write_report(study, config, folder)
    print(f"report of study {config.name} ({len(study.get_trials(deepcopy=False))} trials):")
    for label, path in (("page", files.html), ("trials (CSV)", files.csv), ("trials (Parquet)", files.parquet)):
        print(f"  wrote {label}: {path}")
    print(f"open it with a browser: file://{files.html.resolve()}")
    return 0


def _can_open_browser() -> bool:
    """A graphical browser is likely only with a display (or on macOS/Windows); on a bare server
    ``webbrowser`` could start a text browser that takes over the terminal instead."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return has_display or sys.platform in ("darwin", "win32")


def _stop_on_signal(signum: int, frame: object) -> None:
    """``kill PID`` and Ctrl-C stop the dashboard cleanly (optuna-dashboard is not left orphaned)."""
    raise KeyboardInterrupt


def _dashboard_command(args: argparse.Namespace) -> int:
    # SIGINT too: a process started in the background by a non-interactive shell inherits SIGINT
    # ignored, and Python then never raises KeyboardInterrupt, so Ctrl-C (or kill -INT) did nothing.
    in_main_thread = threading.current_thread() is threading.main_thread()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in stop_signals} if in_main_thread else {}
    try:
        return _serve_dashboard(args)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_dashboard(args: argparse.Namespace) -> int:
    config = find_config(args.study)
    study = load_study(config)
    dashboard = None
    if not args.no_optuna_dashboard:
        log = config.output_dir / "optuna-dashboard.log"
        dashboard = OptunaDashboard(config.storage_url, host=args.host, port=args.port, log_path=log)
        dashboard.start()
    try:
        server = ReportServer(study, config, host=args.host, port=args.report_port, interval=args.interval)
        server.start()
    except BaseException:
        if dashboard is not None:
            dashboard.stop()
        raise
    print(f"study {config.name} in {redact(config.storage_url)}")
    print(f"  report (re-rendered when trials finish, checked every {args.interval:g} s): {server.url}")
    if dashboard is not None:
        print(f"  optuna-dashboard: {dashboard.url} (its log: {dashboard.log_path})")
    if args.host in ("127.0.0.1", "localhost"):
        ports = [server.port] + ([dashboard.port] if dashboard else [])
        forwards = " ".join(f"-L {port}:localhost:{port}" for port in ports)
        print(f"  from another machine: ssh -N {forwards} USER@THIS_HOST, then open the URLs above there")
    print("Ctrl-C stops both.", flush=True)
    if not args.no_browser:
        if _can_open_browser():
            for url in [server.url] + ([dashboard.url] if dashboard else []):
                webbrowser.open(url)
        else:
            print("  (no display here: not opening a browser; use the URLs above)")
    warned = False
    try:
        while True:
            time.sleep(0.5)
            if dashboard is not None and not warned and not dashboard.running():
                code = dashboard.process.returncode if dashboard.process else None
                print(f"optuna-dashboard stopped (exit code {code}); see {dashboard.log_path}. The report stays up.")
                warned = True
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        server.stop()
        if dashboard is not None:
            dashboard.stop()
    print("stopped the report server" + (" and optuna-dashboard" if dashboard else ""))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="write a study's offline HTML report (Pareto fronts, hypervolume, blocks, trials) and tables"
    )
    report.add_argument("study", help=_WHERE)
    out = "folder for report.html, trials.csv and trials.parquet (default: OUTPUT/NAME/report)"
    report.add_argument("--out", help=out)
    report.set_defaults(handler=_report_command)

    dashboard = commands.add_parser(
        "dashboard", help="live view of a running study: optuna-dashboard plus our report, refreshed as trials finish"
    )
    dashboard.add_argument("study", help=_WHERE)
    dashboard.add_argument("--port", type=int, default=8080, help="optuna-dashboard's port (default 8080; 0: any)")
    dashboard.add_argument("--report-port", type=int, default=8081, help="the report's port (default 8081; 0: any)")
    dashboard.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1 only)")
    dashboard.add_argument("--interval", type=float, default=5.0, help="seconds between checks for new trials")
    dashboard.add_argument("--no-browser", action="store_true", help="do not open a browser")
    dashboard.add_argument(
        "--no-optuna-dashboard", action="store_true", help="serve only our report (without optuna-dashboard)"
    )
    dashboard.set_defaults(handler=_dashboard_command)
