"""The values a stage can really take once its context is known, in one place for drawing and counting.

Optuna needs the choice list of a parameter name to be the same in every trial, but the valid
``groups`` depend on the sampled channels (and the previous stage's) and the valid
``state_blocks`` on the sampled number of states. So a draw always offers the stage's full, fixed
choice list and then maps an invalid value to the *nearest valid* one: the closest on a log scale,
the smaller on a tie, ``None`` (for state blocks) only when no number is valid. The same draw
always gives the same architecture, so parameters replay exactly. The space checks at
construction that every context has a valid value, and the reachable values of a field in a
context are exactly its valid ones (valid values map to themselves), which is what counting and
enumeration use.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from search_spaces._spec import Stage
from search_spaces.choices import StageChoices

# Suggests one value out of a fixed tuple of choices under a parameter name (a trial, or a seeded rng).
Choose = Callable[[str, tuple[Any, ...]], Any]
# Fields decided per stage after the block and its conditional field, in Stage field order.
_TRAILING_FIELDS = ("depth", "stride", "residual", "norm", "activation")


def valid_groups(choices: tuple[int, ...], channels: int, previous: int) -> tuple[int, ...]:
    """Groups that split both the stage's input (``previous`` channels) and its output channels."""
    return tuple(g for g in choices if channels % g == 0 and previous % g == 0)


def valid_state_blocks(choices: tuple[int | None, ...], num_states: int) -> tuple[int | None, ...]:
    """State-block counts that split the states evenly; None (no blocks) always does."""
    return tuple(b for b in choices if b is None or num_states % b == 0)


def nearest(value: Any, valid: tuple[Any, ...]) -> Any:
    """``value`` if valid, else the valid number closest to it in ratio (smaller on ties), else None."""
    if value in valid:
        return value
    numbers = [v for v in valid if v is not None]
    if not numbers:
        return None
    return min(numbers, key=lambda v: (abs(math.log(v / value)), v))


def field_choices(choices: StageChoices, name: str, shared: Mapping[str, Any]) -> tuple[Any, ...]:
    """The stage's choices for ``name``, or the one network-wide value when the field is shared."""
    return (shared[name],) if name in shared else getattr(choices, name)


def conditional_values(
    choices: StageChoices, block: str, channels: int, previous: int | None, num_states: int
) -> dict[str, tuple[Any, ...]]:
    """The reachable values of the block's conditional field (none for dws and full).

    ``previous`` is the previous stage's channels; None for the first stage, which receives its
    own channel count from the 1x1 stem.
    """
    if block == "group":
        received = channels if previous is None else previous
        return {"groups": valid_groups(choices.groups, channels, received)}
    if block == "neck":
        return {"bottleneck_ratio": choices.bottleneck_ratio}
    if block == "s5":
        return {"state_blocks": valid_state_blocks(choices.state_blocks, num_states)}
    return {}


def stage_options(choices: StageChoices, shared: Mapping[str, Any], previous: int | None) -> Iterator[Stage]:
    """Every distinct stage reachable from ``choices`` after a stage with ``previous`` channels (None: first)."""
    trailing = [field_choices(choices, name, shared) for name in _TRAILING_FIELDS]
    for block, channels, num_states in itertools.product(
        *(field_choices(choices, name, shared) for name in ("block", "channels", "num_states"))
    ):
        conditional = conditional_values(choices, block, channels, previous, num_states)
        for extra in itertools.product(*conditional.values()):
            for rest in itertools.product(*trailing):
                yield Stage(
                    block,
                    channels,
                    num_states,
                    **dict(zip(conditional, extra, strict=True)),
                    **dict(zip(_TRAILING_FIELDS, rest, strict=True)),
                )


def count_by_channels(choices: StageChoices, shared: Mapping[str, Any], previous: int | None) -> dict[int, int]:
    """How many distinct stages :func:`stage_options` yields, per channel count, without building them."""
    trailing = math.prod(len(field_choices(choices, name, shared)) for name in _TRAILING_FIELDS)
    counts: dict[int, int] = {}
    for channels in field_choices(choices, "channels", shared):
        total = 0
        for block, num_states in itertools.product(
            field_choices(choices, "block", shared), field_choices(choices, "num_states", shared)
        ):
            conditional = conditional_values(choices, block, channels, previous, num_states)
            total += math.prod(len(values) for values in conditional.values())
        counts[channels] = total * trailing
    return counts


def draw_stage(
    choices: StageChoices, shared: Mapping[str, Any], previous: int | None, index: int, choose: Choose
) -> Stage:
    """One stage: searched fields are asked of ``choose`` as ``s<index>.<field>``; fixed and shared ones are not."""

    def pick(name: str) -> Any:
        values = field_choices(choices, name, shared)
        return values[0] if len(values) == 1 else choose(f"s{index}.{name}", values)

    block, channels, num_states = pick("block"), pick("channels"), pick("num_states")
    extra: dict[str, Any] = {}
    for name, valid in conditional_values(choices, block, channels, previous, num_states).items():
        extra[name] = nearest(pick(name), valid)
    return Stage(block, channels, num_states, **extra, **{name: pick(name) for name in _TRAILING_FIELDS})
