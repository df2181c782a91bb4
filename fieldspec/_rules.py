"""What a field accepts: small declarative rules, each with the ``allowed`` text its errors print.

A rule answers two questions, the same ones the error message and the config reference page ask:
does this value pass (:meth:`Rule.accepts`), and how is what is allowed said (:attr:`Rule.allowed`).
The texts are the project's existing ones, so moving a check onto a rule never changes a message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def is_int(value: object) -> bool:
    """True for real integers only: ``bool`` is an ``int`` subclass but never a size."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object, finite: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) or not finite


class Rule:
    """The base of all rules: ``allowed`` is the text after ``allowed:``; ``metavar`` and ``flag_type`` say
    how a command-line flag mirroring the field reads its value."""

    allowed: str = ""
    metavar: str | None = None

    def accepts(self, value: object) -> bool:
        raise NotImplementedError

    def convert(self, value: object) -> object:
        """The accepted value as the field keeps it (e.g. an int ratio as a float); the value itself by default."""
        return value

    def flag_type(self) -> Callable[[str], object] | None:
        """How argparse converts the flag's text (``None``: a plain string)."""
        return None


@dataclass(frozen=True)
class Integer(Rule):
    """An ``int`` (never a ``bool``) of at least ``minimum`` (and at most ``maximum`` when given).

    ``allowed`` defaults to ``a positive integer`` for a minimum of 1 (specs, training) and to
    ``an integer >= N`` otherwise; study configs say ``an integer >= 1`` and pass it.
    """

    minimum: int = 1
    maximum: int | None = None
    text: str | None = None

    @property
    def allowed(self) -> str:  # type: ignore[override]
        if self.text is not None:
            return self.text
        if self.maximum is not None:
            return f"an integer in [{self.minimum}, {self.maximum}]"
        return "a positive integer" if self.minimum == 1 else f"an integer >= {self.minimum}"

    def accepts(self, value: object) -> bool:
        if not is_int(value):
            return False
        assert isinstance(value, int)
        return value >= self.minimum and (self.maximum is None or value <= self.maximum)

    def flag_type(self) -> Callable[[str], object]:
        return int


@dataclass(frozen=True)
class Number(Rule):
    """An ``int`` or ``float`` (not a ``bool``) above ``minimum`` (strictly when ``strict``), below ``maximum``
    (strictly when ``strict_maximum``); ``finite`` refuses NaN and infinities."""

    minimum: float = 0.0
    strict: bool = False
    maximum: float | None = None
    strict_maximum: bool = False
    finite: bool = True
    text: str | None = None
    as_float: bool = False

    @property
    def allowed(self) -> str:  # type: ignore[override]
        if self.text is not None:
            return self.text
        if self.maximum is not None:
            return _range(self.minimum, self.strict, self.maximum, self.strict_maximum)
        return f"a number {'>' if self.strict else '>='} {self.minimum:g}"

    def accepts(self, value: object) -> bool:
        if not _is_number(value, self.finite):
            return False
        assert isinstance(value, (int, float))
        if value < self.minimum or (self.strict and value == self.minimum):
            return False
        if self.maximum is None:
            return True
        return value < self.maximum if self.strict_maximum else value <= self.maximum

    def convert(self, value: object) -> object:
        return float(value) if self.as_float else value  # type: ignore[arg-type]

    def flag_type(self) -> Callable[[str], object]:
        return float


@dataclass(frozen=True)
class Fraction(Number):
    """A number in ``[0, maximum]`` (``[0, maximum)`` when ``strict_maximum``): a share of something."""

    maximum: float | None = 1.0


def _range(low: float, strict_low: bool, high: float, strict_high: bool) -> str:
    """``a number in [0, 0.5]``, with ``(`` / ``)`` for open ends."""
    return f"a number in {'(' if strict_low else '['}{low:g}, {high:g}{')' if strict_high else ']'}"


@dataclass(frozen=True)
class Interval(Rule):
    """A pair ``(low, high)`` of numbers with ``lowest <= low <= high <= highest`` (an SNR range in dB)."""

    lowest: float = 0.0
    highest: float = 1.0
    metavar: str | None = "LOW,HIGH"

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return f"(low, high) with {self.lowest:g} <= low <= high <= {self.highest:g}"

    def accepts(self, value: object) -> bool:
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return False
        low, high = value
        return _is_number(low, True) and _is_number(high, True) and self.lowest <= low <= high <= self.highest

    def convert(self, value: object) -> object:
        return tuple(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Boolean(Rule):
    """``true`` or ``false`` (YAML) / ``True`` or ``False``; never 0/1 or a string."""

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return "true or false"

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed list of names; ``text`` overrides the plain comma-separated list."""

    options: Sequence[str] = ()
    text: str | None = None

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return self.text if self.text is not None else ", ".join(self.options)

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and value in self.options


@dataclass(frozen=True)
class Text(Rule):
    """Any string (a path, a URL): the field's own code checks what it means."""

    text: str = "a string"

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return self.text

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class Satisfies(Rule):
    """A value for which ``predicate`` holds, described by ``text`` (e.g. a device name: auto, cpu, cuda:N)."""

    predicate: Callable[[object], bool] = bool
    text: str = ""

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return self.text

    def accepts(self, value: object) -> bool:
        return self.predicate(value)


@dataclass(frozen=True)
class Names(Rule):
    """A non-empty list of distinct names (kept as a tuple), each among ``options`` when options are given; on
    the command line one comma-separated argument (``--noise-kinds white,hum``)."""

    options: Sequence[str] = ()
    text: str | None = None
    metavar: str | None = "NAME,..."

    @property
    def allowed(self) -> str:  # type: ignore[override]
        if self.text is not None:
            return self.text
        if self.options:
            return f"a non-empty subset of {', '.join(self.options)}"
        return "a non-empty list of distinct names"

    def accepts(self, value: object) -> bool:
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
            return False
        if not all(isinstance(item, str) for item in value) or len(set(value)) != len(value):
            return False
        return not self.options or all(item in self.options for item in value)

    def convert(self, value: object) -> object:
        return tuple(value)  # type: ignore[arg-type]

    def flag_type(self) -> Callable[[str], object]:
        return _comma_separated(self)


def _comma_separated(rule: Names) -> Callable[[str], object]:
    """argparse's ``type`` for a :class:`Names` flag: split at commas, refuse what the rule refuses."""
    import argparse

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        if not rule.accepts(names):
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {rule.allowed}, comma-separated")
        return names

    return parse
