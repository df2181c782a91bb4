"""``centaurus-nas data {kws,denoise,asr}``: generate the synthetic corpora from the command line.

``register`` adds the ``data`` command to the main parser, one sub-command per registered task with a
corpus (``TaskDefinition.corpus``); each sub-command sets ``handler`` to a function returning the exit
code, which is how ``nas.cli.main`` dispatches. The built-in corpora's flags are defined here
(``kws_arguments`` / ``kws_fields``, ...) and named by their task definitions.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from nas.data.synth.asr import ASRConfig
from nas.data.synth.denoise import DenoiseConfig
from nas.data.synth.kws import KWSConfig
from nas.data.synth.noise import NOISE_KINDS
from nas.data.synth.summary import CorpusSummary

if TYPE_CHECKING:
    from nas.tasks.registry import CorpusDefinition

__all__ = [
    "asr_arguments",
    "asr_fields",
    "denoise_arguments",
    "denoise_fields",
    "kws_arguments",
    "kws_fields",
    "register",
]


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [kind for kind in kinds if kind not in NOISE_KINDS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(
            f"{text!r}: noise kinds are a comma-separated subset of {','.join(NOISE_KINDS)}"
        )
    return kinds


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (new, empty, or a previous output of this command)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives byte-identical files")
    parser.add_argument("--workers", type=int, default=1, help="processes synthesising in parallel (default 1)")
    parser.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty folder this command did not make"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _noise(parser: argparse.ArgumentParser, snr: tuple[float, float]) -> None:
    # Two flags rather than "--snr LOW,HIGH": argparse would read "-5,20" as an option name.
    parser.add_argument("--snr-min", type=float, metavar="DB", help=f"lowest SNR in dB (default {snr[0]:g})")
    parser.add_argument("--snr-max", type=float, metavar="DB", help=f"highest SNR in dB (default {snr[1]:g})")
    parser.add_argument(
        "--noise-kinds",
        type=_kinds,
        metavar="KIND,...",
        help=f"noise kinds among {','.join(NOISE_KINDS)} (default: all synthetic, plus real with --noise-dir)",
    )
    parser.add_argument("--noise-dir", help="folder of your own noise recordings (any soundfile-readable format)")


def _report(summary: CorpusSummary) -> int:
    print(summary.describe())
    print(f"outputs: {summary.out.resolve()}")
    return 0


def _given(args: argparse.Namespace, **names: str) -> dict[str, object]:
    """Config fields for the options the user gave (the dataclass defaults apply to the rest)."""
    return {field: getattr(args, option) for field, option in names.items() if getattr(args, option) is not None}


def _snr(args: argparse.Namespace, default: tuple[float, float]) -> dict[str, object]:
    if args.snr_min is None and args.snr_max is None:
        return {}
    low = default[0] if args.snr_min is None else args.snr_min
    high = default[1] if args.snr_max is None else args.snr_max
    return {"snr_db": (low, high)}


def kws_fields(args: argparse.Namespace) -> dict[str, object]:
    """:class:`KWSConfig` fields from the flags of :func:`kws_arguments` that were given."""
    fields = _given(
        args,
        per_word="per_word",
        speakers="speakers",
        validation_fraction="validation_fraction",
        testing_fraction="testing_fraction",
        clean_fraction="clean_fraction",
        noise_kinds="noise_kinds",
        noise_dir="noise_dir",
        background_seconds="background_seconds",
    )
    fields.update(_snr(args, KWSConfig.snr_db))
    if args.words is not None:
        fields["words"] = tuple(word.strip() for word in args.words.split(",") if word.strip())
    return fields


def denoise_fields(args: argparse.Namespace) -> dict[str, object]:
    """:class:`DenoiseConfig` fields from the flags of :func:`denoise_arguments` that were given."""
    fields = _given(
        args,
        train_utterances="train_utterances",
        test_utterances="test_utterances",
        train_speakers="train_speakers",
        test_speakers="test_speakers",
        noise_kinds="noise_kinds",
        noise_dir="noise_dir",
        test_noise_fraction="test_noise_fraction",
    )
    fields.update(_snr(args, DenoiseConfig.snr_db))
    return fields


def asr_fields(args: argparse.Namespace) -> dict[str, object]:
    """:class:`ASRConfig` fields from the flags of :func:`asr_arguments` that were given."""
    return _given(
        args,
        train_utterances="train_utterances",
        dev_utterances="dev_utterances",
        test_utterances="test_utterances",
        train_speakers="train_speakers",
        dev_speakers="dev_speakers",
        test_speakers="test_speakers",
    )


def kws_arguments(kws: argparse.ArgumentParser) -> None:
    """The flags of ``centaurus-nas data kws`` beyond the common ones."""
    defaults = KWSConfig()
    kws.add_argument("--per-word", type=int, help=f"clips per word (default {defaults.per_word})")
    kws.add_argument("--speakers", type=int, help=f"synthetic speakers (default {defaults.speakers})")
    kws.add_argument("--words", help="comma-separated subset of keywords (default: the 35 Speech Commands words)")
    kws.add_argument("--validation-fraction", type=float, help="fraction of speakers held out for validation (0.1)")
    kws.add_argument("--testing-fraction", type=float, help="fraction of speakers held out for testing (0.1)")
    kws.add_argument(
        "--clean-fraction", type=float, help=f"fraction of clips without noise ({defaults.clean_fraction})"
    )
    kws.add_argument("--background-seconds", type=float, help="length of each _background_noise_ file (60)")
    _noise(kws, defaults.snr_db)


def denoise_arguments(denoise: argparse.ArgumentParser) -> None:
    """The flags of ``centaurus-nas data denoise`` beyond the common ones."""
    defaults_d = DenoiseConfig()
    denoise.add_argument("--train-utterances", type=int, help=f"training pairs (default {defaults_d.train_utterances})")
    denoise.add_argument("--test-utterances", type=int, help=f"test pairs (default {defaults_d.test_utterances})")
    denoise.add_argument("--train-speakers", type=int, help=f"training speakers (default {defaults_d.train_speakers})")
    denoise.add_argument("--test-speakers", type=int, help=f"test speakers (default {defaults_d.test_speakers})")
    denoise.add_argument(
        "--test-noise-fraction", type=float, help="share of --noise-dir recordings kept for the test set (0.25)"
    )
    _noise(denoise, defaults_d.snr_db)


def asr_arguments(asr: argparse.ArgumentParser) -> None:
    """The flags of ``centaurus-nas data asr`` beyond the common ones."""
    defaults_a = ASRConfig()
    for subset in ("train", "dev", "test"):
        asr.add_argument(
            f"--{subset}-utterances",
            type=int,
            help=f"utterances (default {getattr(defaults_a, f'{subset}_utterances')})",
        )
        asr.add_argument(
            f"--{subset}-speakers", type=int, help=f"speakers (default {getattr(defaults_a, f'{subset}_speakers')})"
        )


def _generate(corpus: CorpusDefinition, args: argparse.Namespace) -> int:
    fields = corpus.fields(args) if corpus.fields is not None else {}
    config = corpus.config(seed=args.seed, **fields)
    return _report(
        corpus.generate(args.out, config, workers=args.workers, overwrite=args.overwrite, progress=not args.quiet)
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``data`` with one sub-command per registered task that has a corpus (``kws``, ``denoise``, ``asr``,
    and any task registered since: :func:`nas.tasks.register_task`) to the main parser's sub-commands."""
    from nas.tasks.registry import get_task, task_names  # here: nas.tasks names this module's flag functions

    data = commands.add_parser("data", help="generate synthetic speech corpora offline (eSpeak NG)")
    corpora = data.add_subparsers(dest="corpus", required=True)
    add: Callable[..., argparse.ArgumentParser] = corpora.add_parser
    for name in task_names():
        corpus = get_task(name).corpus
        if corpus is None:
            continue
        parser = add(name, help=corpus.help)
        _common(parser)
        if corpus.arguments is not None:
            corpus.arguments(parser)
        parser.set_defaults(handler=partial(_generate, corpus))
