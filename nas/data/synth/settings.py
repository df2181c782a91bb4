"""The settings of the three synthetic corpora, declared once (:mod:`fieldspec`).

Each config's ``__post_init__`` checks its fields against these declarations (errors in the project's
one form, ``per_word: got 0; allowed: a positive integer``), ``centaurus-nas data {kws,denoise,asr}``
takes its flags from them (:func:`fieldspec.flags.add_flags`), and the config reference page lists
them. Rules across fields (noise kinds that need a folder, speakers that must split) stay with the
config they belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fieldspec import Field, Integer, Interval, Names, Number, Text, fail
from nas.data.synth._noise import NOISE_KINDS, SYNTHETIC_NOISE_KINDS
from nas.errors import DatasetError

"""The 35 keywords of Speech Commands v2, the KWS corpus's default ``words``."""

SPEECH_COMMANDS_WORDS: tuple[str, ...] = (
    *("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"),
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow"),
    *("backward", "forward", "follow", "learn", "visual"),
)
"""The 35 keywords of Speech Commands v2, the KWS corpus's default ``words``."""

_SEED = Field("seed", Integer(minimum=0), 0, "random seed; the same seed gives byte-identical files", flag="--seed")
_PITCH = Field("pitch_jitter", Integer(minimum=0), help="pitch varies by +/- this much between a speaker's utterances")
_RATE = Field(
    "rate_jitter", Number(maximum=0.5), help="speed varies by a factor 1 +/- this between a speaker's utterances"
)
_SNR = Field("snr_db", Interval(-30.0, 100.0, metavar="DB"), help="SNR in dB", flag="--snr")
_NOISE = (
    Field(
        "noise_kinds",
        Names(NOISE_KINDS, metavar="KIND,..."),
        None,
        f"noise kinds among {','.join(NOISE_KINDS)}",
        optional=True,
        flag="--noise-kinds",
        shown="all synthetic, plus real with --noise-dir",
    ),
    Field(
        "noise_dir",
        Text("a folder of noise recordings"),
        None,
        "folder of your own noise recordings (any soundfile-readable format)",
        optional=True,
        flag="--noise-dir",
        shown="none",
    ),
)
_PAD = Field("pad_seconds", Interval(0.0, 5.0), help="silence added at each end, in seconds")


def _with(item: Field, default: object) -> Field:
    """``item`` with another default (the same setting in two corpora)."""
    return replace(item, default=default)


KWS: tuple[Field, ...] = (
    _SEED,
    Field("per_word", Integer(), 100, "clips per word", flag="--per-word"),
    Field("speakers", Integer(), 48, "synthetic speakers", flag="--speakers"),
    Field(
        "words",
        Names(metavar="WORD,..."),
        SPEECH_COMMANDS_WORDS,
        "keywords",
        flag="--words",
        shown="the 35 Speech Commands words",
    ),
    Field(
        "validation_fraction",
        Number(maximum=0.5),
        0.1,
        "share of speakers held out for validation",
        flag="--validation-fraction",
    ),
    Field(
        "testing_fraction",
        Number(maximum=0.5),
        0.1,
        "share of speakers held out for testing",
        flag="--testing-fraction",
    ),
    _with(_SNR, (5.0, 30.0)),
    Field("clean_fraction", Number(maximum=1.0), 0.2, "share of clips without noise", flag="--clean-fraction"),
    *_NOISE,
    Field(
        "background_seconds",
        Number(maximum=3600.0),
        60.0,
        "length of each _background_noise_ file",
        flag="--background-seconds",
    ),
    Field("peak_dbfs", Interval(-60.0, 0.0), (-18.0, -2.0), "peak level range in dBFS"),
    _with(_PITCH, 8),
    _with(_RATE, 0.12),
    Field("word_rate_scale", Number(0.5, maximum=2.0), 0.8, "speaking-rate scale of isolated words"),
    Field("max_word_seconds", Number(0.3, maximum=1.0), 0.95, "a longer word is said again faster"),
)
"""``centaurus-nas data kws`` / :class:`nas.data.synth.kws.KWSConfig`."""

DENOISE: tuple[Field, ...] = (
    _SEED,
    Field("train_utterances", Integer(), 800, "training pairs", flag="--train-utterances"),
    Field("test_utterances", Integer(), 100, "test pairs", flag="--test-utterances"),
    Field("train_speakers", Integer(), 12, "training speakers", flag="--train-speakers"),
    Field("test_speakers", Integer(), 2, "test speakers", flag="--test-speakers"),
    _with(_SNR, (-5.0, 20.0)),
    *_NOISE,
    Field(
        "test_noise_fraction",
        Number(strict=True, maximum=0.9),
        0.25,
        "share of --noise-dir recordings kept for the test set",
        flag="--test-noise-fraction",
    ),
    Field("level_dbfs", Interval(-60.0, -6.0), (-32.0, -22.0), "active-speech level range in dBFS"),
    _with(_PAD, (0.1, 0.5)),
    _with(_PITCH, 4),
    _with(_RATE, 0.08),
)
"""``centaurus-nas data denoise`` / :class:`nas.data.synth.denoise.DenoiseConfig`."""

ASR: tuple[Field, ...] = (
    _SEED,
    *(
        Field(f"{subset}_utterances", Integer(), count, f"{subset} utterances", flag=f"--{subset}-utterances")
        for subset, count in (("train", 1500), ("dev", 100), ("test", 100))
    ),
    *(
        Field(f"{subset}_speakers", Integer(), count, f"{subset} speakers", flag=f"--{subset}-speakers")
        for subset, count in (("train", 20), ("dev", 4), ("test", 4))
    ),
    Field("max_chapters", Integer(), 2, "chapters per speaker, at most"),
    Field("peak_dbfs", Interval(-60.0, 0.0), (-12.0, -3.0), "peak level range in dBFS"),
    _with(_PAD, (0.05, 0.3)),
    _with(_PITCH, 4),
    _with(_RATE, 0.08),
)
"""``centaurus-nas data asr`` / :class:`nas.data.synth.asr.ASRConfig`."""

WORKERS = Field("workers", Integer(), 1, "processes synthesising in parallel", flag="--workers")
"""The ``workers`` argument of every ``generate_*`` (not a config field: the files do not depend on it)."""


def resolve_noise_kinds(kinds: Sequence[str] | None, noise_dir: str | None) -> tuple[str, ...]:
    """The kinds to draw from: the given ones, or all synthetic kinds plus 'real' when a noise folder is set."""
    if kinds is None:
        return (*SYNTHETIC_NOISE_KINDS, "real") if noise_dir else SYNTHETIC_NOISE_KINDS
    if "real" in kinds and not noise_dir:
        fail(
            DatasetError, "noise_kinds", repr(tuple(kinds)), "'real' only with noise_dir, a folder of noise recordings"
        )
    return tuple(kinds)
