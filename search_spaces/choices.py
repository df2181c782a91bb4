"""The choices of one stage of a search space: a tuple of allowed values for every :class:`Stage` field.

A field with one value is fixed; a field with several is searched. The block-specific fields are
conditional: ``groups`` is used only when the block is ``group``, ``bottleneck_ratio`` only for
``neck`` and ``state_blocks`` only for ``s5``, so they must be given exactly when their block is
among the block choices (an unused choice list is almost always a mistake in a config).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any

from fieldspec import is_int
from search_spaces import _checks, _io
from search_spaces._spec import STAGE_FIELDS
from search_spaces.fields import STAGE_SETTINGS

# Which block makes each conditional field relevant.
CONDITIONAL_FIELDS: dict[str, str] = {"groups": "group", "bottleneck_ratio": "neck", "state_blocks": "s5"}


_CHOICE_FIELDS = {name: replace(declared, optional=name == "state_blocks") for name, declared in STAGE_SETTINGS.items()}
"""The stage fields as choices: only ``state_blocks`` may list ``None`` (groups and ratios are listed exactly
when their block may be chosen, and then each must be a value)."""
_VALUE_CHECKS: dict[str, Callable[[object, str], object]] = {
    name: partial(_checks.check, declared) for name, declared in _CHOICE_FIELDS.items()
}
"""Each stage field's check of one allowed value, from its declaration (:mod:`search_spaces.fields`)."""


@dataclass(frozen=True)
class StageChoices:
    """Allowed values per field of one stage; lists are accepted and stored as tuples.

    ``state_blocks`` may contain ``None`` (no block-diagonal initialisation); its default
    ``(None,)`` means "never set". ``groups`` and ``bottleneck_ratio`` default to no choices and
    are required when their block may be chosen.
    """

    block: tuple[str, ...]
    channels: tuple[int, ...]
    num_states: tuple[int, ...]
    groups: tuple[int, ...] = ()
    bottleneck_ratio: tuple[float, ...] = ()
    state_blocks: tuple[int | None, ...] = (None,)
    depth: tuple[int, ...] = (1,)
    stride: tuple[int, ...] = (1,)
    residual: tuple[bool, ...] = (True,)
    norm: tuple[str, ...] = ("layer",)
    activation: tuple[str, ...] = ("gelu",)

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, list):
                object.__setattr__(self, field.name, tuple(value))
        # Store ratios as floats so that 1 and 1.0 give one choice, one spec and one id.
        ratios = self.bottleneck_ratio
        if isinstance(ratios, tuple):
            object.__setattr__(self, "bottleneck_ratio", tuple(float(r) if is_int(r) else r for r in ratios))

    def validate(self, where: str) -> None:
        """Check every choice on its own (the space checks the choices against each other)."""
        for field in fields(self):
            values = getattr(self, field.name)
            located = f"{where}.{field.name}"
            if not isinstance(values, tuple):
                _checks.fail(located, repr(values), "a tuple (or list) of choices")
            for value in values:
                _VALUE_CHECKS[field.name](value, located)
            if len(set(values)) != len(values):
                _checks.fail(located, f"{values!r} with a repeated value", "distinct choices")
            conditional_block = CONDITIONAL_FIELDS.get(field.name)
            if conditional_block is None:
                if not values:
                    _checks.fail(located, "no choices", "at least one value")
            else:
                self._check_conditional(field.name, conditional_block, located)

    def _check_conditional(self, name: str, block: str, where: str) -> None:
        values = getattr(self, name)
        unused = (None,) if name == "state_blocks" else ()
        if block in self.block:
            if not values:
                hint = " (use null for no block-diagonal initialisation)" if name == "state_blocks" else ""
                _checks.fail(where, "no choices", f"at least one value, since block may be {block!r}{hint}")
        elif values != unused:
            _checks.fail(
                where,
                f"{values!r} but block is never {block!r} (block choices {', '.join(self.block)})",
                f"{name} choices only when block may be {block!r}",
            )

    def homogeneous(self, block: str) -> StageChoices:
        """These choices with the block fixed to ``block`` and the other blocks' conditional choices dropped."""
        _checks.stage_field("block", block, "block")
        values: dict[str, Any] = {field.name: getattr(self, field.name) for field in fields(self)}
        values["block"] = (block,)
        for name, owner in CONDITIONAL_FIELDS.items():
            if owner != block:
                values[name] = (None,) if name == "state_blocks" else ()
        return StageChoices(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: one-value fields as scalars, unused conditional fields left out."""
        data: dict[str, Any] = {}
        for field in fields(self):
            values = getattr(self, field.name)
            if field.name in CONDITIONAL_FIELDS and values in ((), (None,)):
                continue
            data[field.name] = values[0] if len(values) == 1 else list(values)
        return data

    @classmethod
    def from_dict(cls, data: object, where: str = "stage") -> StageChoices:
        """Read one stage of a space config: each field a list of choices or a scalar standing for one."""
        values = _io.mapping(data, where)
        _io.check_keys(values, STAGE_FIELDS, ("block", "channels", "num_states"), where)
        return cls(**{name: _as_choices(value) for name, value in values.items()})


def _as_choices(value: object) -> tuple[Any, ...]:
    """A list stands for its choices, any other value for one choice (bad values fail the field checks)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return (value,)
