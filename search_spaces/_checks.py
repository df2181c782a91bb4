"""Field checks shared by architecture specs and search spaces, so both reject the same values alike.

Every check raises :class:`SpecError` with ``"<where>: got <value>; allowed: <what>"``, where
``where`` is the dotted location of the field (``stages[2].groups``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NoReturn

from centaurus.networks.registry import get_network, network_names, unknown_task_message
from search_spaces.errors import SpecError

# Largest allowed neck bottleneck ratio: beyond 4x the channels the "bottleneck" is no longer one.
MAX_BOTTLENECK_RATIO = 4.0


def fail(where: str, got: str, allowed: str) -> NoReturn:
    """Raise the project's uniform message; ``got`` is already formatted (``repr`` of the value, plus context)."""
    raise SpecError(f"{where}: got {got}; allowed: {allowed}")


def describe(value: object, limit: int = 60) -> str:
    """``int 35``: the type and (shortened) value of something that has the wrong type."""
    shown = repr(value)
    if len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    return f"{type(value).__name__} {shown}"


def is_int(value: object) -> bool:
    """True for real integers only: ``bool`` is an ``int`` subclass but never a size."""
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(value: object, where: str) -> int:
    if not is_int(value) or value < 1:  # type: ignore[operator]
        fail(where, repr(value), "a positive integer")
    return value  # type: ignore[return-value]


def one_of(value: object, allowed: Sequence[str], where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        fail(where, repr(value), ", ".join(allowed))
    return value


def boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        fail(where, repr(value), "true or false")
    return value


def task(value: object) -> str:
    """A registered task name (:func:`centaurus.networks.network_names`), with a did-you-mean hint for a typo."""
    if not isinstance(value, str) or value not in network_names():
        raise SpecError(unknown_task_message(value, network_names()))
    return value


def bottleneck_last(task_name: str, last_stride: object, last: int, allowed: str) -> None:
    """An hourglass network's last stage is its bottleneck (stride 1): the decoder mirrors the others."""
    if get_network(task_name).bottleneck_last and last_stride not in (1, (1,)):
        fail(f"stages[{last}].stride", repr(last_stride), allowed.format(task=task_name))


def bottleneck_ratio(value: object, where: str) -> float:
    """A neck's bottleneck ratio as a float (ints are accepted and converted so that ids do not depend on 1 vs 1.0)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= MAX_BOTTLENECK_RATIO
    ):
        fail(where, repr(value), f"a number in (0, {MAX_BOTTLENECK_RATIO:g}]")
    return float(value)


def output_size(task_name: str, size: object) -> int:
    """The output size must fit the task's network (``min_outputs``: a classifier needs two classes to
    decide anything)."""
    positive_int(size, "output.size")
    least = get_network(task_name).min_outputs
    if size < least:  # type: ignore[operator]
        fail("output.size", repr(size), f"at least {least} classes for {task_name}")
    return size  # type: ignore[return-value]


def total_stride(
    task_name: str, sample_rate: int, length: int, strides: Sequence[int], where: str, input_stride: int = 1
) -> int:
    """Check the product of the stage strides (times the frontend's hop) against the input length and,
    where the task's network has one (asr), its frame rate.

    The total must divide ``length`` so that every stage sees an integral number of samples (and
    the U-Net decoder can restore the exact length); asr also needs a 25-100 Hz output frame rate.
    """
    total = input_stride * math.prod(strides)
    shown = f"total stride {total} (strides {' * '.join(map(str, strides))}"
    shown += f" after the frontend's hop {input_stride})" if input_stride > 1 else ")"
    if length % total:
        fail(where, f"{shown}, which does not divide input.length={length}", "a total stride dividing input.length")
    frame_rate = get_network(task_name).frame_rate
    if frame_rate is not None:
        low, high = frame_rate
        rate = sample_rate / total
        if not low <= rate <= high:
            fail(
                where,
                f"{shown}, a frame rate of {rate:g} Hz at sample_rate={sample_rate}",
                f"a frame rate between {low:g} and {high:g} Hz for {task_name}"
                f" (total stride {math.ceil(sample_rate / high)} to {math.floor(sample_rate / low)})",
            )
    return total
