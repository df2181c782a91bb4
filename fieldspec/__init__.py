"""One validation layer for every settings object of the project (study configs, spaces and specs,
training and synthesis settings).

A setting is declared once as a :class:`Field` (name, rule, default, help text); the checks, the
command-line flags that mirror settings (:mod:`fieldspec.flags`) and the generated config reference
page (:mod:`fieldspec.reference`) are all read from those declarations, so they cannot drift apart.
Every error has the project's one form, ``FIELD: got X; allowed: Y``, and a key or name that is
not allowed gets a did-you-mean hint.

This package imports nothing from the project, so ``centaurus``-free layers (``search_spaces``) and
``nas`` can both use it without an import cycle; each caller passes its own error class.
"""

from __future__ import annotations

from fieldspec._fields import Field, check_fields, field_named
from fieldspec._keys import check_keys, unknown_keys_listed
from fieldspec._messages import describe, echo, fail, message, shown, suggestion
from fieldspec._rules import (
    Boolean,
    Choice,
    Fraction,
    Integer,
    Interval,
    Names,
    Number,
    Rule,
    Satisfies,
    Text,
    is_int,
)

__all__ = [
    "Boolean",
    "Choice",
    "Field",
    "Fraction",
    "Integer",
    "Interval",
    "Names",
    "Number",
    "Rule",
    "Satisfies",
    "Text",
    "check_fields",
    "check_keys",
    "describe",
    "echo",
    "fail",
    "field_named",
    "is_int",
    "message",
    "shown",
    "suggestion",
    "unknown_keys_listed",
]
