"""What the command line prints, and how: one console per command, third-party logging kept quiet.

Output must read well in two places. In a terminal, rich wraps to the window and may draw live
status lines. In a pipe, a file or a CI log, nothing knows the width: rich would wrap at 80
columns and split paths and numbers across lines, which breaks ``grep`` and copy-paste. So when
standard output is not a terminal the console never wraps (every message stays on its one line,
tables are as wide as their content) and nothing is redrawn in place.

Ray and Optuna log to the driver's stderr at INFO ("Started a local Ray instance", "A new study
created in RDB"); mixed with our own lines they are noise. :func:`configure_logging` silences them
below WARNING (Ray below ERROR: its warnings are about its own set-up) unless the user asked for
``--verbose``; :func:`verbose` tells the Ray backend whether to forward worker output too.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from rich.console import Console

PIPE_WIDTH = 10_000
"""The console width when output is not a terminal: wide enough that rich never wraps a line."""

_state = {"verbose": False}


def make_console(*, stderr: bool = False, file: TextIO | None = None) -> Console:
    """A console for one command: the terminal's width in a terminal, no wrapping anywhere else."""
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    is_terminal = hasattr(stream, "isatty") and stream.isatty()
    if is_terminal:
        return Console(file=stream, stderr=stderr)
    return Console(file=stream, width=PIPE_WIDTH, soft_wrap=True, highlight=False)


def configure_logging(*, verbose: bool) -> None:
    """Keep Optuna's and Ray's log lines out of the output unless ``verbose`` (call once per command)."""
    import optuna

    _state["verbose"] = verbose
    optuna.logging.set_verbosity(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("ray").setLevel(ray_logging_level())


def verbose() -> bool:
    """Whether the user asked for third-party log lines (``--verbose``)."""
    return _state["verbose"]


def ray_logging_level() -> int:
    """The level ``ray.init`` gets for the driver's ``ray`` logger (it resets the level it is given)."""
    return logging.INFO if _state["verbose"] else logging.ERROR
