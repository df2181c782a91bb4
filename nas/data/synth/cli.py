"""``centaurus-nas data {kws,denoise,asr}``: generate the synthetic corpora from the command line.

``register`` adds the ``data`` command to the main parser; each sub-command sets ``handler`` to a
function returning the exit code, which is how ``nas.cli.main`` dispatches.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from nas.data.synth.asr import ASRConfig, generate_asr
from nas.data.synth.denoise import DenoiseConfig, generate_denoise
from nas.data.synth.kws import KWSConfig, generate_kws
from nas.data.synth.noise import NOISE_KINDS
from nas.data.synth.summary import CorpusSummary

__all__ = ["register"]


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


def _kws(args: argparse.Namespace) -> int:
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
    config = KWSConfig(seed=args.seed, **fields)  # type: ignore[arg-type]
    return _report(
        generate_kws(args.out, config, workers=args.workers, overwrite=args.overwrite, progress=not args.quiet)
    )


def _denoise(args: argparse.Namespace) -> int:
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
    config = DenoiseConfig(seed=args.seed, **fields)  # type: ignore[arg-type]
    summary = generate_denoise(
        args.out, config, workers=args.workers, overwrite=args.overwrite, progress=not args.quiet
    )
    return _report(summary)


def _asr(args: argparse.Namespace) -> int:
    fields = _given(
        args,
        train_utterances="train_utterances",
        dev_utterances="dev_utterances",
        test_utterances="test_utterances",
        train_speakers="train_speakers",
        dev_speakers="dev_speakers",
        test_speakers="test_speakers",
    )
    config = ASRConfig(seed=args.seed, **fields)  # type: ignore[arg-type]
    return _report(
        generate_asr(args.out, config, workers=args.workers, overwrite=args.overwrite, progress=not args.quiet)
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``data`` with sub-commands ``kws``, ``denoise`` and ``asr`` to the main parser's sub-commands."""
    data = commands.add_parser("data", help="generate synthetic speech corpora offline (eSpeak NG)")
    corpora = data.add_subparsers(dest="corpus", required=True)
    add: Callable[..., argparse.ArgumentParser] = corpora.add_parser

    kws = add("kws", help="keyword spotting, Google Speech Commands v2 layout")
    _common(kws)
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
    kws.set_defaults(handler=_kws)

    denoise = add("denoise", help="speech denoising, VoiceBank+DEMAND layout (16 kHz)")
    _common(denoise)
    defaults_d = DenoiseConfig()
    denoise.add_argument("--train-utterances", type=int, help=f"training pairs (default {defaults_d.train_utterances})")
    denoise.add_argument("--test-utterances", type=int, help=f"test pairs (default {defaults_d.test_utterances})")
    denoise.add_argument("--train-speakers", type=int, help=f"training speakers (default {defaults_d.train_speakers})")
    denoise.add_argument("--test-speakers", type=int, help=f"test speakers (default {defaults_d.test_speakers})")
    denoise.add_argument(
        "--test-noise-fraction", type=float, help="share of --noise-dir recordings kept for the test set (0.25)"
    )
    _noise(denoise, defaults_d.snr_db)
    denoise.set_defaults(handler=_denoise)

    asr = add("asr", help="speech recognition, LibriSpeech layout (16 kHz FLAC)")
    _common(asr)
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
    asr.set_defaults(handler=_asr)
