"""The documentation stays true to the code: the generated CLI and config reference pages are current, every page is reachable
from the site's navigation, and the README's links point at files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from nas.cli_reference import cli_reference
from nas.config_reference import config_reference

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_cli_page_is_what_the_parser_says_today() -> None:
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_reference(), "docs/cli.md is stale: run `python -m nas.cli_reference docs/cli.md`"


def test_config_reference_is_what_the_declarations_say_today() -> None:
    committed = (DOCS / "config-reference.md").read_text(encoding="utf-8")
    assert committed == config_reference(), (
        "docs/config-reference.md is stale: run `python -m nas.config_reference docs/config-reference.md`"
    )


def test_every_page_is_in_the_navigation_and_every_entry_is_a_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = set(_nav_pages(config["nav"]))
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert listed == pages


def test_readme_links_point_at_files_that_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [target for target in re.findall(r"\]\(([^)#]+)", text) if "://" not in target]
    assert targets, "the README links to the docs pages"
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert missing == []
