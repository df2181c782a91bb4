"""The rule of docs/development.md about public and private modules, checked on the source tree.

A module that only its own package imports is private (``_name.py``); a public module is one that
another package, a benchmark, the docs or a ``python -m`` entry point reaches by its path. Without
this test the split drifts: a new module lands public by habit, or a benchmark starts leaning on a
private one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("centaurus", "fieldspec", "search_spaces", "nas")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _modules() -> dict[str, Path]:
    """Every module of the packages (``__init__`` files are the packages themselves)."""
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "__init__.py"
    }


def _imported(path: Path) -> Iterator[str]:
    """Dotted names a file imports: ``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and
    ``a.b`` (``b`` may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _is_private(module: str) -> bool:
    return module.rsplit(".", 1)[-1].startswith("_")


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _named_outside_python() -> set[str]:
    """Modules the docs, the Makefile or pyproject.toml name by path (``python -m``, ``:::``, scripts)."""
    texts = [ROOT / "Makefile", ROOT / "pyproject.toml", *sorted((ROOT / "docs").rglob("*.md"))]
    found: set[str] = set()
    for text in (path.read_text(encoding="utf-8") for path in texts):
        found.update(re.findall(r"-m ([\w.]+)", text))
        found.update(re.findall(r"^::: ([\w.]+)", text, flags=re.MULTILINE))
        found.update(re.findall(r'= "([\w.]+):\w+"', text))
    return found


def test_a_public_module_is_imported_from_outside_its_package() -> None:
    modules = _modules()
    reached = _named_outside_python()
    for folder in (*PACKAGES, "benchmarks"):
        for path in _python_files(folder):
            importer_package = _module_name(path.parent)
            reached.update(
                name for name in _imported(path) if name in modules and name.rsplit(".", 1)[0] != importer_package
            )
    only_inside = sorted(name for name in modules if not _is_private(name) and name not in reached)
    assert only_inside == [], (
        "imported only by their own package; rename them to _name.py (docs/development.md): " + ", ".join(only_inside)
    )


def test_benchmarks_use_public_modules_only() -> None:
    modules = _modules()
    leaning = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in _python_files("benchmarks")
        for name in _imported(path)
        if name in modules and _is_private(name)
    )
    assert leaning == []


def test_private_modules_are_not_reached_by_path_from_other_packages() -> None:
    modules = _modules()
    crossing = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for package in PACKAGES
        for path in _python_files(package)
        for name in _imported(path)
        if name in modules and _is_private(name) and not _module_name(path).startswith(name.rsplit(".", 1)[0] + ".")
    )
    assert crossing == []
