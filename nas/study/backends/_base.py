"""The protocol between the driver and the place its trials run (in the spirit of Syne Tune's trial backends).

The driver owns the study and decides what runs; a backend only runs it. ``start`` hands it a
request, ``collect`` returns the runs that have ended (waiting at most ``timeout`` seconds for the
first), ``cancel`` gives up on a run in flight, ``capacity`` says how many runs may be in flight at
once. A backend never talks to the study: lost workers, exceptions and out-of-memory kills come
back as :class:`~nas.study.requests.TrialResult` values, and the driver decides about retries.
"""

from __future__ import annotations

from typing import Protocol

from nas.study.requests import TrialRequest, TrialResult


class TrialBackend(Protocol):
    """Starts, collects and cancels trial runs (see the module docstring)."""

    def capacity(self) -> int:
        """How many runs may be in flight at once (asked before each fill: a cluster may grow or shrink)."""
        ...

    def start(self, request: TrialRequest) -> None:
        """Begin running ``request``; its result comes back from a later :meth:`collect`."""
        ...

    def collect(self, timeout: float) -> list[TrialResult]:
        """The runs that have ended since the last call, waiting up to ``timeout`` seconds for the first."""
        ...

    def cancel(self, request: TrialRequest) -> None:
        """Stop ``request``'s run if it is in flight; it never comes back from :meth:`collect`."""
        ...
