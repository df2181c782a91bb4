"""Checks shared by architecture specs and search spaces, so both reject the same values alike.

Single fields are declared in :mod:`search_spaces.fields` and checked by :mod:`fieldspec`; what is
here are the rules that read the task registry or several fields at once. Every check raises
:class:`SpecError` with ``"<where>: got <value>; allowed: <what>"``, where ``where`` is the dotted
location of the field (``stages[2].groups``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NoReturn

import fieldspec
from centaurus.networks.registry import get_network, network_names, unknown_task_message
from fieldspec import Field
from search_spaces._errors import SpecError
from search_spaces.fields import POSITIVE, STAGE_SETTINGS


def fail(where: str, got: str, allowed: str) -> NoReturn:
    """Raise the project's uniform message as a :class:`SpecError`; ``got`` is already formatted."""
    fieldspec.fail(SpecError, where, got, allowed)


def check(declared: Field, value: object, where: str) -> Any:
    """``value`` when the declared field accepts it, else a :class:`SpecError` naming ``where``."""
    return declared.check(value, where, SpecError)


def stage_field(name: str, value: object, where: str) -> Any:
    """Check ``value`` against the stage field ``name`` (:data:`search_spaces.fields.STAGE_SETTINGS`); a
    ``None`` passes only where the field is optional."""
    return check(STAGE_SETTINGS[name], value, where)


def task(value: object) -> str:
    """A registered task name (:func:`centaurus.networks.network_names`), with a did-you-mean hint for a typo."""
    if not isinstance(value, str) or value not in network_names():
        raise SpecError(unknown_task_message(value, network_names()))
    return value


def bottleneck_last(task_name: str, last_stride: object, last: int, allowed: str) -> None:
    """An hourglass network's last stage is its bottleneck (stride 1): the decoder mirrors the others."""
    if get_network(task_name).bottleneck_last and last_stride not in (1, (1,)):
        fail(f"stages[{last}].stride", repr(last_stride), allowed.format(task=task_name))


def output_size(task_name: str, size: object) -> int:
    """The output size must fit the task's network (``min_outputs``: a classifier needs two classes to
    decide anything)."""
    check(POSITIVE, size, "output.size")
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
