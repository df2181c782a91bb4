"""Layout errors: every dataset error names the folder, what is wrong, and draws the layout the loader expects.

Users point the loaders at folders they extracted by hand (or that our generator wrote), so the most useful
thing an error can do is show, next to what was found missing, the tree that should have been there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nas.errors import DatasetError


@dataclass(frozen=True)
class _Layout:
    """The name of a corpus layout and its expected folder tree (indented, one entry a line)."""

    name: str
    tree: str

    def error(self, folder: Path, problem: str) -> DatasetError:
        """A DatasetError for ``folder``: what is wrong, then the expected tree."""
        return DatasetError(f"{self.name} dataset at {folder}: {problem}\nexpected a {self.name} folder:\n{self.tree}")

    def require_folder(self, folder: Path, what: str) -> None:
        """Raise unless ``folder`` exists and is a directory; ``what`` says which part of the layout it is."""
        if not folder.exists():
            raise self.error(folder, f"{what} {folder} does not exist")
        if not folder.is_dir():
            raise self.error(folder, f"{what} {folder} is not a folder")

    def require_choice(self, folder: Path, field: str, value: object, allowed: Iterable[str]) -> None:
        """Raise unless ``value`` is one of ``allowed``, naming the field and the allowed values."""
        choices = tuple(allowed)
        if value not in choices:
            listed = ", ".join(repr(choice) for choice in choices)
            raise self.error(folder, f"{field}={value!r} is not one of {listed}")


def _root_path(root: str | os.PathLike[str]) -> Path:
    """The dataset root as a Path, with ``~`` expanded (users paste paths from their shell)."""
    return Path(root).expanduser()
