"""How much training a trial gets: epochs, optimiser steps or wall-clock seconds (or several at once).

A budget is also the clock of the learning-rate schedule: the cosine decay follows ``progress``,
the largest fraction used of any limit, so a run stopped by its budget always ends at the bottom of
the schedule whichever limit stopped it. Seconds budgets make the number of steps depend on the
machine's speed; step and epoch budgets are the reproducible ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nas.errors import TaskConfigError

_UNITS = {
    "s": ("seconds", 1.0),
    "sec": ("seconds", 1.0),
    "m": ("seconds", 60.0),
    "min": ("seconds", 60.0),
    "h": ("seconds", 3600.0),
    "steps": ("steps", 1.0),
    "step": ("steps", 1.0),
    "epochs": ("epochs", 1.0),
    "epoch": ("epochs", 1.0),
    "ep": ("epochs", 1.0),
}
_TERM = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]+)\s*$")
_ALLOWED = "a number with a unit, e.g. 300s, 5m, 1h, 2000steps, 3epochs (several joined by ',' stop at the first)"


@dataclass(frozen=True)
class Budget:
    """Training limits; training stops at whichever is reached first. At least one must be set."""

    epochs: float | None = None
    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.epochs is None and self.steps is None and self.seconds is None:
            raise TaskConfigError(f"budget: got no limit; allowed: {_ALLOWED}")
        for name in ("epochs", "steps", "seconds"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise TaskConfigError(f"budget.{name}: got {value!r}; allowed: a positive number")
        if self.steps is not None and int(self.steps) != self.steps:
            raise TaskConfigError(f"budget.steps: got {self.steps!r}; allowed: a positive integer")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """``"300s"``, ``"5m"``, ``"2000steps"``, ``"3epochs"``, or several: ``"3epochs,600s"``."""
        limits: dict[str, float] = {}
        for term in str(text).lower().split(","):
            match = _TERM.match(term)
            if match is None or match.group(2) not in _UNITS:
                raise TaskConfigError(f"budget: got {text!r}; allowed: {_ALLOWED}")
            field, scale = _UNITS[match.group(2)]
            if field in limits:
                raise TaskConfigError(f"budget: got {text!r}, which sets {field} twice; allowed: {_ALLOWED}")
            limits[field] = float(match.group(1)) * scale
        if "steps" in limits:
            if limits["steps"] != int(limits["steps"]):
                raise TaskConfigError(f"budget.steps: got {limits['steps']!r}; allowed: a positive integer")
            return cls(epochs=limits.get("epochs"), steps=int(limits["steps"]), seconds=limits.get("seconds"))
        return cls(epochs=limits.get("epochs"), seconds=limits.get("seconds"))

    def progress(self, steps: int, epochs: float, seconds: float) -> float:
        """The fraction of the budget used, in [0, 1]: the largest over the limits that are set."""
        used = [
            used / limit
            for used, limit in ((steps, self.steps), (epochs, self.epochs), (seconds, self.seconds))
            if limit is not None
        ]
        return min(1.0, max(used))

    def scaled(self, factor: float) -> Budget:
        """This budget times ``factor`` (for multi-fidelity rungs); steps round up to at least one."""
        if not factor > 0:
            raise TaskConfigError(f"budget factor: got {factor!r}; allowed: a positive number")
        return Budget(
            epochs=None if self.epochs is None else self.epochs * factor,
            steps=None if self.steps is None else max(1, round(self.steps * factor)),
            seconds=None if self.seconds is None else self.seconds * factor,
        )

    def describe(self) -> str:
        """The budget for people: ``6.7s``, ``200 steps``, ``1.5 epochs`` (a rung's budget is a fraction of
        the full one, and ``6.66667s`` reads as noise). ``str()`` stays the form configs and results tables parse."""
        parts = []
        if self.epochs is not None:
            parts.append(f"{self.epochs:.3g} epoch{'' if self.epochs == 1 else 's'}")
        if self.steps is not None:
            parts.append(f"{self.steps} step{'' if self.steps == 1 else 's'}")
        if self.seconds is not None:
            shown = f"{self.seconds:.1f}" if self.seconds < 10 else f"{self.seconds:.0f}"
            parts.append(shown.removesuffix(".0") + "s")
        return ", ".join(parts)

    def __str__(self) -> str:
        parts = []
        if self.epochs is not None:
            parts.append(f"{self.epochs:g}epochs")
        if self.steps is not None:
            parts.append(f"{self.steps}steps")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g}s")
        return ",".join(parts)


def budget_share(fraction: float) -> str:
    """A share of the training budget for people: ``33%``, ``100%``, ``0.5%`` (never ``0.333333``)."""
    percent = 100.0 * fraction
    return f"{percent:.0f}%" if percent >= 1 else f"{percent:.2g}%"
