"""Markdown tables of declared fields, for a generated config reference page.

One row per field: its key (and flag, where it has one), its default, what is allowed (the very text
its error message prints) and what it means, so the page says what the checks do.
"""

from __future__ import annotations

from collections.abc import Sequence

from fieldspec._fields import Field


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(declared: Sequence[Field], *, flags: bool = False) -> str:
    """A Markdown table of ``declared``; ``flags`` adds the command-line flag column."""
    head = ["key", *(["flag"] if flags else []), "default", "allowed", "meaning"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for item in declared:
        flag = []
        if flags:
            flag = [f"`{item.flag}`" if item.flag else ""]
            if item.flag and item.rule.__class__.__name__ == "Interval":
                flag = [f"`{item.flag}-min`, `{item.flag}-max`"]
        allowed = item.rule.allowed + ("; or not set" if item.optional else "")
        row = [f"`{item.name}`", *flag, _cell(item.shown_default()), _cell(allowed), _cell(item.help)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
