"""The project's one error-message form, ``FIELD: got X; allowed: Y``, and the did-you-mean hint.

Kept apart from the rules so that hand-written checks (a cross-field condition, a parse error) say
their problem in exactly the same form as the declared fields do.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import NoReturn

ECHO_CHARACTERS = 200
"""The most characters of a bad value an error message repeats (a 10 MB value must not flood the terminal)."""


def echo(value: object) -> str:
    """``repr(value)``, cut to :data:`ECHO_CHARACTERS` with the full length said."""
    text = repr(value)
    if len(text) <= ECHO_CHARACTERS:
        return text
    return f"{text[:ECHO_CHARACTERS]}... ({len(text)} characters)"


def shown(got: object) -> str:
    """What a message repeats of ``got``: a string in angle brackets (``<unknown key 'x'>``) is already a
    description and stays as it is (cut when very long); anything else is echoed."""
    text = got if isinstance(got, str) and got.startswith("<") else echo(got)
    if len(text) > ECHO_CHARACTERS + 40:
        text = f"{text[:ECHO_CHARACTERS]}... ({len(text)} characters)"
    return text


def message(where: str, got: str, allowed: str) -> str:
    """``where: got <got>; allowed: <allowed>``; ``got`` is already formatted (see :func:`shown`)."""
    return f"{where}: got {got}; allowed: {allowed}"


def fail(error: type[Exception], where: str, got: str, allowed: str) -> NoReturn:
    """Raise ``error`` with :func:`message` (``got`` already formatted)."""
    raise error(message(where, got, allowed))


def describe(value: object, limit: int = 60) -> str:
    """``int 35``: the type and (shortened) value of something that has the wrong type."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def suggestion(key: object, allowed: Sequence[str], *, quote: bool = True) -> str:
    """`` (did you mean 'objectives'?)`` for a likely typo of an allowed name, else nothing."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}?)" if quote else f" (did you mean {close[0]}?)"
