"""Command-line flags that mirror declared fields, so a flag's name, type, help and default are never
written by hand beside the field they set.

A field with ``flag="--per-word"`` gets that flag (``dest`` = the field's name, the rule's type and
metavar, the field's help with its default). An :class:`~fieldspec._rules.Interval` field gets two
flags, ``--snr-min`` and ``--snr-max`` (one ``--snr LOW,HIGH`` would not do: argparse reads ``-5,20``
as an option); a :class:`~fieldspec._rules.Boolean` field (false by default) gets a switch.
:func:`given` turns the parsed flags back into field values, for the ones the user gave; the settings
object's own check then applies, with the same message as in YAML.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fieldspec._fields import Field
from fieldspec._rules import Boolean, Interval


def add_flags(parser: argparse.ArgumentParser, declared: Sequence[Field]) -> None:
    """Add one flag per declared field that names one (two for an interval); no default is set, so that
    :func:`given` can tell a flag that was given from one that was not."""
    for item in declared:
        if item.flag is None:
            continue
        if isinstance(item.rule, Interval):
            low, high = item.default
            metavars = (item.rule.metavar or "LOW,HIGH").split(",")
            for end, shown in (("min", low), ("max", high)):
                parser.add_argument(
                    f"{item.flag}-{end}",
                    dest=f"{item.name}_{end}",
                    type=float,
                    metavar=metavars[0] if end == "min" else metavars[-1],
                    help=f"{'lowest' if end == 'min' else 'highest'} {item.help} (default {shown:g})",
                )
            continue
        if isinstance(item.rule, Boolean):
            # A switch: given, it turns the (false) default on; absent, the settings' default applies.
            parser.add_argument(item.flag, dest=item.name, action="store_true", default=None, help=item.help)
            continue
        convert = item.rule.flag_type()
        parser.add_argument(
            item.flag,
            dest=item.name,
            type=str if convert is None else convert,
            metavar=item.rule.metavar or item.flag.lstrip("-").replace("-", "_").upper(),
            help=f"{item.help} (default {item.shown_default()})",
        )


def given(args: argparse.Namespace, declared: Sequence[Field]) -> dict[str, object]:
    """Field values for the flags the user gave (the settings' defaults apply to the rest); an interval
    given at one end keeps its default other end."""
    values: dict[str, object] = {}
    for item in declared:
        if item.flag is None:
            continue
        if isinstance(item.rule, Interval):
            low, high = getattr(args, f"{item.name}_min"), getattr(args, f"{item.name}_max")
            if low is not None or high is not None:
                values[item.name] = (item.default[0] if low is None else low, item.default[1] if high is None else high)
        elif getattr(args, item.name) is not None:
            values[item.name] = getattr(args, item.name)
    return values
