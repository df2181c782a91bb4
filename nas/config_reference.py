"""The config reference page of the docs (``docs/config-reference.md``), generated from the field declarations.

Every setting a user writes (study config sections, ``training:``, ``supernet:``/``confirm:``, the
architecture spec and search-space fields, the synthetic corpora's settings and flags) is declared
once with :mod:`fieldspec`; the checks read those declarations, and so does this page. ``make docs``
regenerates it, and a test fails when the committed page differs from what the declarations say.

    python -m nas.config_reference docs/config-reference.md
"""

from __future__ import annotations

from fieldspec import Field
from fieldspec.reference import table
from nas._generated_page import write_page

_INTRO = """# Config reference

Every setting, its default, what is allowed and what it means. The *allowed* column is the text an
error prints after `allowed:` (`FIELD: got X; allowed: Y`); an unknown key gets a did-you-mean hint.
This page is generated from the field declarations (`python -m nas.config_reference
docs/config-reference.md`, run by `make docs`); a test keeps it current.
"""


def _sections() -> list[tuple[str, str, tuple[Field, ...], bool]]:
    """(heading, text, fields, with flags) for each section, in the page's order."""
    from nas.data.synth import settings as synth
    from nas.study import settings as study
    from nas.tasks.config import TRAINING_FIELDS
    from search_spaces import fields as spec

    sections: list[tuple[str, str, tuple[Field, ...], bool]] = [
        ("Study config", "The top level of `studies/*.yaml`.", study.STUDY, False),
    ]
    for key in ("objectives[i]", "sampler", "budget"):
        sections.append((f"`{key}`", "", study.SECTIONS[key], False))
    sections.append(
        (
            "`training`",
            "Also `budget:` (default 120s): each trial's training budget, e.g. `90s`, `2000steps`, `3epochs`."
            " The flags are those of `centaurus-nas train`.",
            TRAINING_FIELDS,
            True,
        )
    )
    for key in ("fidelity", "resources", "cost", "ray"):
        sections.append((f"`{key}`", "", study.SECTIONS[key], False))
    for key in ("supernet", "confirm"):
        sections.append((f"`{key}`", "Used with `strategy: weight-sharing` only.", study.SECTIONS[key], False))
    sections += [
        (
            "Architecture spec and search space: `input`",
            "A search space gives the same fields.",
            spec.INPUT_SETTINGS,
            False,
        ),
        ("`input.frontend`", "Optional: without one the stages read raw audio.", spec.FRONTEND_SETTINGS, False),
        ("`output`", "", spec.OUTPUT_SETTINGS, False),
        (
            "`stages[i]`",
            "In a search space, each field is a list of the values to search (one value: fixed).",
            tuple(spec.STAGE_SETTINGS.values()),
            False,
        ),
        (
            "Synthetic corpora: `centaurus-nas data kws`",
            "A study's `generate_data:` mapping takes the same keys.",
            synth.KWS,
            True,
        ),
        ("`centaurus-nas data denoise`", "", synth.DENOISE, True),
        ("`centaurus-nas data asr`", "", synth.ASR, True),
    ]
    return sections


def config_reference() -> str:
    """The markdown page: one table per section."""
    parts = [_INTRO]
    for heading, text, declared, flags in _sections():
        parts.append(f"## {heading}\n")
        if text:
            parts.append(f"{text}\n")
        parts.append(table(declared, flags=flags))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    return write_page(argv, "nas.config_reference", config_reference)


if __name__ == "__main__":
    raise SystemExit(main())
