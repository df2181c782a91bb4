"""The command line both generated docs pages share: ``python -m <module> OUT.md`` writes the page."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def write_page(argv: list[str] | None, module: str, render: Callable[[], str]) -> int:
    """Write ``render()`` to the one path in ``argv`` (default ``sys.argv[1:]``); 2 with a usage line otherwise."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {module} OUT.md", file=sys.stderr)
        return 2
    Path(args[0]).write_text(render(), encoding="utf-8")
    return 0
