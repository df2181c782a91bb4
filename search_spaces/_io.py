"""Reading specs from plain data, JSON, YAML and files, with errors that say where the data went wrong.

Specs and spaces both travel as nested dicts of plain values (the form study configs embed), so
the checks for mappings, unknown keys and missing keys live here once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import yaml

import fieldspec
from fieldspec import describe
from search_spaces._checks import fail
from search_spaces._errors import SpecError

TextFormat = Literal["json", "yaml"]
_SUFFIXES: dict[str, TextFormat] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        fail(where, describe(value), "a mapping of field names to values")
    return value


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], required: Sequence[str], where: str) -> None:
    """Reject unknown keys (usually typos that would otherwise be silently ignored) and missing required ones."""
    fieldspec.check_keys(data, allowed, where, SpecError, required, brackets=False)


def join(prefix: str, key: str) -> str:
    """``input`` + ``length`` -> ``input.length``; an empty prefix is the top level."""
    return f"{prefix}.{key}" if prefix else key


def dump(data: Mapping[str, Any], text_format: TextFormat) -> str:
    """Readable text: indented JSON, or YAML with one flow-style line per innermost mapping or list."""
    if text_format == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=None, width=120)


def parse(text: str, text_format: TextFormat, what: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text) if text_format == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"{what}: got text that is not valid {text_format.upper()} ({exc})") from exc
    return mapping(data, what)


def format_of(path: str | Path) -> TextFormat:
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        fail("path", f"{str(path)!r} with suffix {suffix!r}", ", ".join(_SUFFIXES))
    return _SUFFIXES[suffix]


def read(path: str | Path) -> tuple[str, TextFormat]:
    text_format = format_of(path)
    return Path(path).read_text(encoding="utf-8"), text_format


def write(path: str | Path, data: Mapping[str, Any]) -> Path:
    target = Path(path)
    target.write_text(dump(data, format_of(target)), encoding="utf-8")
    return target


class TextSerialisable:
    """JSON, YAML and file round trips for a spec that has ``to_dict`` and ``from_dict``.

    ``_WHAT`` names the kind of document in parse errors (e.g. ``architecture``).
    """

    _WHAT: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: object) -> Self:
        raise NotImplementedError

    def to_json(self) -> str:
        return dump(self.to_dict(), "json")

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(parse(text, "json", cls._WHAT))

    def to_yaml(self) -> str:
        return dump(self.to_dict(), "yaml")

    @classmethod
    def from_yaml(cls, text: str) -> Self:
        return cls.from_dict(parse(text, "yaml", cls._WHAT))

    def save(self, path: str | Path) -> Path:
        """Write JSON or YAML, chosen by the suffix (.json, .yaml, .yml); returns the path written."""
        return write(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Self:
        text, text_format = read(path)
        return cls.from_dict(parse(text, text_format, str(path)))
