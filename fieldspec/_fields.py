"""A field declared once: name, rule, default, help; checking a value or a whole settings object.

``Field.check`` is the one place a declared value is tested; dataclasses call :func:`check_fields`
from ``__post_init__``, YAML sections call ``Field.check`` on each value they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fieldspec._messages import fail, shown, suggestion
from fieldspec._rules import Choice, Rule

MISSING: Any = object()
"""The default of a field that has none (it must be given)."""


@dataclass(frozen=True)
class Field:
    """One setting: its ``name`` (as in YAML and in the dataclass), what it accepts (``rule``), its
    ``default`` (``MISSING`` when it must be given), a one-line ``help`` for the reference page and the
    flag, and whether ``None`` is allowed (``optional``: "not set"). ``flag`` is the command-line flag
    that mirrors the field (``--per-word``), or ``None`` when the field has no flag; ``shown`` replaces
    the printed default."""

    name: str
    rule: Rule
    default: Any = MISSING
    help: str = ""
    optional: bool = False
    flag: str | None = None
    shown: str | None = None
    """How the default is said where printing it would not help (35 keywords): ``the 35 Speech Commands words``."""

    def check(self, value: object, where: str, error: type[Exception], *, echo: bool = False) -> Any:
        """``value`` (converted by the rule) when the rule accepts it, else ``error`` with
        ``where: got <value>; allowed: <rule.allowed>``, with a did-you-mean hint for a near miss of a
        :class:`~fieldspec._rules.Choice`. ``echo`` cuts very long values (YAML input)."""
        if value is None and self.optional:
            return None
        if not self.rule.accepts(value):
            got = shown(value) if echo else repr(value)
            if isinstance(self.rule, Choice) and isinstance(value, str):
                got += suggestion(value, self.rule.options)
            fail(error, where, got, self.rule.allowed)
        return self.rule.convert(value)

    def shown_default(self) -> str:
        """The default as the reference page and ``--help`` print it."""
        if self.shown is not None:
            return self.shown
        if self.default is MISSING:
            return "(required)"
        if self.default is None:
            return "not set"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, tuple):
            return ", ".join(map(str, self.default))
        return str(self.default)


def field_named(declared: Sequence[Field], name: str) -> Field:
    """The declaration called ``name`` (a KeyError names a programming mistake, never a user's)."""
    for item in declared:
        if item.name == name:
            return item
    raise KeyError(name)


def check_fields(settings: object, declared: Sequence[Field], prefix: str, error: type[Exception]) -> None:
    """Check every declared field of ``settings`` (a dataclass instance) in declaration order; ``prefix``
    is prepended to each name in messages (``training.`` gives ``training.lr: got ...``)."""
    for item in declared:
        item.check(getattr(settings, item.name), f"{prefix}{item.name}", error)
