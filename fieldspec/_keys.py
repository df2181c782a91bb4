"""Checks of a mapping's keys (a YAML section): unknown keys with a did-you-mean hint, required keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fieldspec._messages import fail, shown, suggestion


def check_keys(
    data: Mapping[str, Any],
    allowed: Sequence[str],
    where: str,
    error: type[Exception],
    required: Sequence[str] = (),
    *,
    brackets: bool = True,
) -> None:
    """Refuse the first key not in ``allowed`` (``<unknown key 'trails'> (did you mean 'trials'?)``), then
    the first of ``required`` that is missing. ``brackets=False`` drops the angle brackets (the form of
    architecture specs and search spaces, ``got unknown key 'hops' (did you mean 'hop'?)``)."""
    opening, closing = ("<", ">") if brackets else ("", "")
    for key in data:
        if key not in allowed:
            got = f"{opening}unknown key {key!r}{closing}{suggestion(key, allowed)}"
            fail(error, where, shown(got) if brackets else got, f"the keys {', '.join(allowed)}")
    for key in required:
        if key not in data:
            got = f"{opening}no {key!r}{closing}"
            fail(error, where, got, f"a mapping with the required keys {', '.join(required)}")


def unknown_keys_listed(data: Mapping[str, Any], allowed: Sequence[str], where: str, error: type[Exception]) -> None:
    """All unknown keys at once, sorted (``training: unknown key(s) a, b (did you mean c?); allowed: ...``):
    the form of sections whose every key is a dataclass field."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        known = sorted(allowed)
        hint = suggestion(unknown[0], known, quote=False)
        raise error(f"{where}: unknown key(s) {', '.join(unknown)}{hint}; allowed: {', '.join(known)}")
