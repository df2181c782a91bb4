"""The fields of an architecture spec, declared once (:mod:`fieldspec`): what each accepts, its default and
what it means. Specs and search spaces check their values against these declarations, and the config
reference page (``docs/config-reference.md``) is written from them.

Rules that involve several fields or the task (groups dividing the channels, a total stride dividing
the input length) stay in :mod:`search_spaces._checks` and :mod:`search_spaces._spec`.
"""

from __future__ import annotations

from centaurus.modes import MODES
from centaurus.networks.frontend import FRONTEND_KINDS
from centaurus.post import ACTIVATIONS, NORMS
from fieldspec import Boolean, Choice, Field, Integer, Number

MAX_BOTTLENECK_RATIO = 4.0
"""Largest allowed neck bottleneck ratio: beyond 4x the channels the "bottleneck" is no longer one."""

POSITIVE = Field("value", Integer())
"""A positive integer, for sizes checked outside a declared field (``output.size`` of a search)."""

INPUT_SETTINGS: tuple[Field, ...] = (
    Field("sample_rate", Integer(), 16000, "samples per second of the audio"),
    Field("channels", Integer(), 1, "audio channels"),
    Field("length", Integer(), 16000, "nominal training length in samples"),
)
"""``input:`` (besides ``frontend:``)."""

FRONTEND_SETTINGS: tuple[Field, ...] = (
    Field("kind", Choice(FRONTEND_KINDS), "logmel", "feature kind: log mel energies"),
    Field("mels", Integer(), 40, "mel bands (at most window // 2 + 1)"),
    Field("window", Integer(), 400, "Hann window length in samples"),
    Field("hop", Integer(), 160, "samples between frames (at most the window)"),
)
"""``input.frontend:`` (optional; without one the stages read raw audio)."""

OUTPUT_SETTINGS: tuple[Field, ...] = (
    Field("size", Integer(), help="classes (kws), vocabulary without the CTC blank (asr), audio channels (denoise)"),
)
"""``output:``."""

STAGE_SETTINGS: dict[str, Field] = {
    item.name: item
    for item in (
        Field("block", Choice(MODES), help="SSM block type"),
        Field("channels", Integer(), help="channels of the stage's blocks"),
        Field("num_states", Integer(), help="states per SSM (poles)"),
        Field("groups", Integer(), None, "group blocks only: channel groups", optional=True),
        Field(
            "bottleneck_ratio",
            Number(
                strict=True,
                maximum=MAX_BOTTLENECK_RATIO,
                text=f"a number in (0, {MAX_BOTTLENECK_RATIO:g}]",
                as_float=True,
            ),
            None,
            "neck blocks only: bottleneck state blocks per channel",
            optional=True,
        ),
        Field("state_blocks", Integer(), None, "s5 blocks only: block-diagonal initialisation", optional=True),
        Field("depth", Integer(), 1, "blocks in the stage"),
        Field("stride", Integer(), 1, "time downsampling after the stage"),
        Field("residual", Boolean(), True, "residual connection around each block"),
        Field("norm", Choice(NORMS), "layer", "normalisation"),
        Field("activation", Choice(ACTIVATIONS), "gelu", "activation"),
    )
}
"""A stage's fields (``stages[i]``); a search space gives a list of values for each."""
