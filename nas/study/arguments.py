"""Command-line argument types shared by the commands that run studies (``search``, ``resume``, ``compare``)."""

from __future__ import annotations

import argparse


def trial_count(text: str) -> int:
    """``--trials``: a count >= 1, checked here because it bypasses the config's validation of ``budget.trials``."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: an integer >= 1")
    return value
