"""The CLI reference page of the docs (``docs/cli.md``), generated from the argument parser itself.

Every command's ``--help`` (options, defaults, examples) is the reference, so the page is written
from :func:`nas.cli.build_parser` rather than by hand: ``make docs`` regenerates it, and a test fails
when the committed page differs from what the parser says today.

    python -m nas.cli_reference docs/cli.md
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from nas._generated_page import write_page

WIDTH = 100
"""Help is wrapped at this many columns whatever the terminal, so the page does not depend on who made it."""

_INTRO = """# Command-line reference

`centaurus-nas COMMAND --help` prints the same text. This page is generated from the argument parser
(`python -m nas.cli_reference docs/cli.md`, run by `make docs`); a test keeps it current.
"""


@contextmanager
def _fixed_width() -> Iterator[None]:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _sections(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    yield path, parser.format_help()
    for name, child in _subcommands(parser):
        yield from _sections(child, (*path, name))


def cli_reference() -> str:
    """The markdown page: the program's help, then each command's (and each nested command's) help."""
    from nas.cli import build_parser

    with _fixed_width():
        parser = build_parser()
        sections = list(_sections(parser, ("centaurus-nas",)))
    parts = [_INTRO]
    for path, text in sections:
        heading = "#" * min(len(path) + 1, 4)
        parts.append(f"{heading} `{' '.join(path)}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    return write_page(argv, "nas.cli_reference", cli_reference)


if __name__ == "__main__":
    raise SystemExit(main())
