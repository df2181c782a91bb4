"""Every exception class the project defines is a ``CentaurusError`` (one root), and the configuration errors
stay ``ValueError``s with their names."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from centaurus import CentaurusConfigError, CentaurusError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("centaurus", "search_spaces", "nas")


def _exception_classes() -> list[tuple[str, str]]:
    """``(module, class)`` of every class in the packages whose name ends in ``Error`` or that derives from an
    ``...Error`` or ``Exception`` (found in the source, so a new one cannot be forgotten)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = [ast.unparse(base) for base in node.bases]
                if node.name.endswith("Error") or any(b.endswith(("Error", "Exception")) for b in bases):
                    found.append((module, node.name))
    return found


CLASSES = _exception_classes()


def test_the_search_finds_the_known_families() -> None:
    names = {name for _, name in CLASSES}
    expected = {"CentaurusConfigError", "SpecError", "StudyConfigError", "StorageUnavailableError", "ExportError"}
    assert expected | {"DatasetError", "TaskConfigError", "CheckpointError", "ParetoError"} <= names


@pytest.mark.parametrize(("module", "name"), CLASSES, ids=[f"{m}.{n}" for m, n in CLASSES])
def test_every_project_error_is_a_centaurus_error(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, CentaurusError), f"{module}.{name} derives from {[b.__name__ for b in cls.__mro__]}"


def test_public_errors_are_reexported_and_configuration_errors_stay_value_errors() -> None:
    from nas.errors import DatasetError, TaskConfigError
    from nas.export import ExportError
    from nas.pareto._errors import ParetoError
    from nas.study.errors import StorageRefusedError, StorageUnavailableError, StudyConfigError
    from search_spaces._errors import SpecError

    for cls in (
        SpecError,
        StudyConfigError,
        StorageUnavailableError,
        StorageRefusedError,
        TaskConfigError,
        DatasetError,
        ExportError,
        ParetoError,
    ):
        assert issubclass(cls, CentaurusConfigError) and issubclass(cls, ValueError), cls
    assert not issubclass(CentaurusError, ValueError)


def test_the_planner_refuses_bad_sizes_with_a_project_error() -> None:
    from centaurus import choose_plan

    with pytest.raises(CentaurusConfigError, match=r"batch: got 0; allowed: a positive integer"):
        choose_plan("dws", {"c": 4, "n": 3, "d": 4}, 0, 16)
