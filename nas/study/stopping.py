"""Ctrl-C (SIGINT) during a search: stop within a second, keep what finished, mark what was running.

Two things made an interrupted search hang. A process started in the background by a
non-interactive shell (``centaurus-nas search ... | tee log &`` in a CI script) inherits SIGINT
*ignored*, and Python then never raises ``KeyboardInterrupt``: ``kill -INT`` did nothing. And an
interrupt raised at an arbitrary point could land in the middle of a storage write.

So the command installs its own handler (:class:`StopOnInterrupt`). While the driver's loop runs,
the first SIGINT only sets a flag that the loop checks between steps (several times a second):
the loop stops at a clean point, the runs in flight are cancelled, and the driver's running trials
are marked ``interrupted`` and re-enqueued for ``resume``. Outside the loop (set-up, data
generation), or on a second SIGINT, it raises ``KeyboardInterrupt`` at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

INTERRUPTED_EXIT = 130
"""The exit status of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


class StopOnInterrupt:
    """A SIGINT handler for the duration of a ``with`` block (main thread only; elsewhere it does nothing)."""

    def __init__(self) -> None:
        self.requested = False
        self._deferred = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._deferred and not self.requested:
            self.requested = True  # the loop stops at its next step
            return
        raise KeyboardInterrupt

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within this block a first SIGINT sets :attr:`requested` instead of raising."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
