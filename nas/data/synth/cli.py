"""``centaurus-nas data {kws,denoise,asr}``: generate the synthetic corpora from the command line.

``register`` adds the ``data`` command to the main parser, one sub-command per registered task with a
corpus (``TaskDefinition.corpus``); each sub-command sets ``handler`` to a function returning the exit
code, which is how ``nas.cli.main`` dispatches. The built-in corpora's flags are generated from their
settings' declarations (:mod:`nas.data.synth.settings`, :mod:`fieldspec.flags`), so a flag cannot
disagree with the field it sets; ``kws_arguments`` / ``kws_fields``, ... are named by the task
definitions.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from fieldspec.flags import add_flags, given
from nas.data.synth.settings import ASR, DENOISE, KWS, WORKERS
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


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (new, empty, or a previous output of this command)")
    add_flags(parser, (WORKERS,))
    parser.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty folder this command did not make"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _report(summary: CorpusSummary) -> int:
    print(summary.describe())
    print(f"outputs: {summary.out.resolve()}")
    return 0


def kws_fields(args: argparse.Namespace) -> dict[str, object]:
    """:class:`~nas.data.synth.kws.KWSConfig` fields from the flags of :func:`kws_arguments` that were given."""
    return given(args, KWS)


def denoise_fields(args: argparse.Namespace) -> dict[str, object]:
    """:class:`~nas.data.synth.denoise.DenoiseConfig` fields from the flags of :func:`denoise_arguments` that
    were given."""
    return given(args, DENOISE)


def asr_fields(args: argparse.Namespace) -> dict[str, object]:
    """:class:`~nas.data.synth.asr.ASRConfig` fields from the flags of :func:`asr_arguments` that were given."""
    return given(args, ASR)


def kws_arguments(kws: argparse.ArgumentParser) -> None:
    """The flags of ``centaurus-nas data kws`` beyond the common ones: those declared in
    :data:`nas.data.synth.settings.KWS`."""
    add_flags(kws, KWS)


def denoise_arguments(denoise: argparse.ArgumentParser) -> None:
    """The flags of ``centaurus-nas data denoise`` beyond the common ones (:data:`nas.data.synth.settings.DENOISE`)."""
    add_flags(denoise, DENOISE)


def asr_arguments(asr: argparse.ArgumentParser) -> None:
    """The flags of ``centaurus-nas data asr`` beyond the common ones (:data:`nas.data.synth.settings.ASR`)."""
    add_flags(asr, ASR)


def _generate(corpus: CorpusDefinition, args: argparse.Namespace) -> int:
    fields = corpus.fields(args) if corpus.fields is not None else {}
    config = corpus.config(**fields)
    workers = given(args, (WORKERS,)).get("workers", WORKERS.default)
    return _report(
        corpus.generate(args.out, config, workers=workers, overwrite=args.overwrite, progress=not args.quiet)
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
