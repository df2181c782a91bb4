"""Speech recognition corpus in the layout of LibriSpeech.

Layout (what a LibriSpeech loader reads)::

    <out>/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt:04d>.flac   16 kHz mono 16-bit FLAC
    <out>/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt        "<id> TRANSCRIPT" per line
    <out>/SPEAKERS.TXT                                                       id | sex | subset | minutes | name
    <out>/README.txt, <out>/generation.json

Subsets ``train-clean-100``, ``dev-clean`` and ``test-clean`` have disjoint speakers using disjoint
eSpeak voice variants. Transcripts are the generated sentences in upper case: ``A``-``Z``, apostrophe
and space, as in LibriSpeech. Audio is clean (as the "clean" subsets), one sentence per utterance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fieldspec import check_fields
from nas.data.synth._audio import SAMPLE_RATE, scale_to_peak, trim_silence
from nas.data.synth._espeak import shared_synthesizer
from nas.data.synth._generator import CorpusGenerator, GeneratorRun
from nas.data.synth._output import (
    begin_manifest,
    prepare_output,
    write_audio,
    write_lines,
    write_text,
)
from nas.data.synth._pool import WorkerPool, progress_bar
from nas.data.synth._speakers import Speaker, make_speakers, split_variants
from nas.data.synth._text import random_sentence
from nas.data.synth.settings import ASR
from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError

__all__ = ["ASR_SUBSETS", "ASRConfig", "generate_asr"]

ASR_SUBSETS: tuple[str, ...] = ("train-clean-100", "dev-clean", "test-clean")

_GENERATOR = "centaurus-nas data asr"
_TAG = 3


@dataclass(frozen=True)
class ASRConfig:
    """What the ASR corpus contains; the same config and seed give byte-identical files.

    Each subset's utterances are spread round-robin over its speakers, and each speaker's over
    1..``max_chapters`` chapters. Speech is trimmed, padded with ``pad_seconds`` of silence at each
    end and peak-normalised to a level uniform in ``peak_dbfs``.
    """

    seed: int = 0
    train_utterances: int = 1500
    dev_utterances: int = 100
    test_utterances: int = 100
    train_speakers: int = 20
    dev_speakers: int = 4
    test_speakers: int = 4
    max_chapters: int = 2
    peak_dbfs: tuple[float, float] = (-12.0, -3.0)
    pad_seconds: tuple[float, float] = (0.05, 0.3)
    pitch_jitter: int = 4
    rate_jitter: float = 0.08

    def __post_init__(self) -> None:
        check_fields(self, ASR, "", DatasetError)

    def sizes(self) -> dict[str, tuple[int, int]]:
        """(utterances, speakers) per subset."""
        return {
            "train-clean-100": (self.train_utterances, self.train_speakers),
            "dev-clean": (self.dev_utterances, self.dev_speakers),
            "test-clean": (self.test_utterances, self.test_speakers),
        }


@dataclass(frozen=True)
class _Utterance:
    utterance_id: str
    path: str
    subset: str
    text: str
    speaker: Speaker
    entropy: tuple[int, ...]


@dataclass(frozen=True)
class _Result:
    utterance_id: str
    seconds: float
    bytes: int


@dataclass(frozen=True)
class _Context:
    out: str
    config: ASRConfig


def _make_utterance(context: _Context, utterance: _Utterance) -> _Result:
    config = context.config
    rng = np.random.default_rng(utterance.entropy)
    speech = utterance.speaker.say(
        utterance.text, rng, pitch_jitter=config.pitch_jitter, rate_jitter=config.rate_jitter
    )
    speech = scale_to_peak(trim_silence(speech, SAMPLE_RATE), rng.uniform(*config.peak_dbfs))
    lead, tail = (round(rng.uniform(*config.pad_seconds) * SAMPLE_RATE) for _ in range(2))
    audio = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
    size = write_audio(Path(context.out) / utterance.path, audio, SAMPLE_RATE, "FLAC")
    return _Result(utterance.utterance_id, len(audio) / SAMPLE_RATE, size)


def _plan(config: ASRConfig) -> tuple[dict[str, list[Speaker]], list[_Utterance]]:
    synthesizer = shared_synthesizer()
    root = np.random.default_rng([config.seed, _TAG, 0])
    sizes = config.sizes()
    total_speakers = sum(count for _, count in sizes.values())
    groups = split_variants(
        synthesizer.variants(), [0.0, *(sizes[subset][1] / total_speakers for subset in ASR_SUBSETS[1:])], root
    )
    numbers = root.choice(np.arange(19, 9000), size=total_speakers, replace=False)
    chapters = root.choice(np.arange(1000, 300000), size=total_speakers * config.max_chapters, replace=False)
    speakers: dict[str, list[Speaker]] = {}
    chapter_ids: dict[str, list[int]] = {}
    utterances: list[_Utterance] = []
    first = 0
    for subset_code, (subset, variants) in enumerate(zip(ASR_SUBSETS, groups, strict=True)):
        count, speaker_count = sizes[subset]
        ids = [str(int(number)) for number in sorted(numbers[first : first + speaker_count])]
        speakers[subset] = make_speakers(ids, synthesizer.base_voices(), variants, root, synthesizer)
        for position, speaker_id in enumerate(ids):
            own = chapters[(first + position) * config.max_chapters : (first + position + 1) * config.max_chapters]
            chapter_ids[speaker_id] = sorted(int(chapter) for chapter in own[: int(root.integers(1, len(own) + 1))])
        first += speaker_count
        said: dict[str, int] = {}
        lines: dict[tuple[str, int], int] = {}
        for index in range(count):
            speaker = speakers[subset][index % speaker_count]
            turn = said.get(speaker.speaker_id, 0)
            said[speaker.speaker_id] = turn + 1
            chapter = chapter_ids[speaker.speaker_id][turn % len(chapter_ids[speaker.speaker_id])]
            number = lines.get((speaker.speaker_id, chapter), 0)
            lines[(speaker.speaker_id, chapter)] = number + 1
            utterance_id = f"{speaker.speaker_id}-{chapter}-{number:04d}"
            path = f"{subset}/{speaker.speaker_id}/{chapter}/{utterance_id}.flac"
            text = random_sentence(np.random.default_rng([config.seed, _TAG, 1, subset_code, index]))
            utterances.append(
                _Utterance(utterance_id, path, subset, text, speaker, (config.seed, _TAG, 2, subset_code, index))
            )
    return speakers, utterances


def _speakers_table(speakers: dict[str, list[Speaker]], minutes: dict[str, float]) -> list[str]:
    lines = [
        "; Synthetic speakers (eSpeak NG voices) of this LibriSpeech-style corpus, as in LibriSpeech's SPEAKERS.TXT.",
        "; MINUTES is the audio generated for the speaker; NAME is the eSpeak voice it speaks with.",
        ";ID  |SEX| SUBSET           |MINUTES| NAME",
    ]
    rows = [
        (int(speaker.speaker_id), speaker, subset)
        for subset in ASR_SUBSETS
        for speaker in speakers[subset]
        if speaker.speaker_id in minutes  # a speaker left without utterances has no folder either
    ]
    for _, speaker, subset in sorted(rows, key=lambda row: row[0]):
        lines.append(
            f"{speaker.speaker_id:<5}| {speaker.gender} | {subset:<17}| {minutes[speaker.speaker_id]:5.2f} | "
            f"eSpeak {speaker.voice} pitch {speaker.pitch} rate {speaker.rate_wpm}"
        )
    return lines


def _readme(config: ASRConfig) -> str:
    sizes = config.sizes()
    parts = ", ".join(f"{subset}: {count} utterances by {people} speakers" for subset, (count, people) in sizes.items())
    return (
        "Synthetic speech recognition corpus in the layout of LibriSpeech,\n"
        "generated offline with eSpeak NG by `centaurus-nas data asr` (see generation.json).\n\n"
        f"seed: {config.seed}\n{parts}\n\n"
        "Audio: 16 kHz mono 16-bit FLAC, one sentence per utterance. Transcripts in each chapter's\n"
        "<speaker>-<chapter>.trans.txt, upper case A-Z, apostrophe and space. Subsets have disjoint speakers\n"
        "and disjoint eSpeak voice variants. Same seed and settings give byte-identical files.\n"
    )


def _write(out: Path, config: ASRConfig, run: GeneratorRun) -> CorpusSummary:
    speakers, utterances = _plan(config)
    entries = [*ASR_SUBSETS, "SPEAKERS.TXT", "README.txt", "generation.json"]
    prepare_output(out, _GENERATOR, entries, run.overwrite)
    manifest = begin_manifest(out, _GENERATOR, "librispeech", config, entries)
    chapters = sorted({str(Path(utterance.path).parent) for utterance in utterances})
    for chapter in chapters:
        (out / chapter).mkdir(parents=True)
    with progress_bar(run.progress) as bar, WorkerPool(run.workers, _Context(str(out), config), bar) as pool:
        results = pool.run(_make_utterance, utterances, "asr utterances")
    transcripts: dict[str, list[str]] = {chapter: [] for chapter in chapters}
    for utterance in utterances:
        transcripts[str(Path(utterance.path).parent)].append(f"{utterance.utterance_id} {utterance.text.upper()}")
    for chapter, lines in transcripts.items():
        speaker_id, chapter_id = Path(chapter).parts[-2:]
        write_lines(out / chapter / f"{speaker_id}-{chapter_id}.trans.txt", sorted(lines))
    minutes: dict[str, float] = {}
    for utterance, result in zip(utterances, results, strict=True):
        minutes[utterance.speaker.speaker_id] = minutes.get(utterance.speaker.speaker_id, 0.0) + result.seconds / 60.0
    write_lines(out / "SPEAKERS.TXT", _speakers_table(speakers, minutes))
    write_text(out / "README.txt", _readme(config))
    files = {subset: sum(u.subset == subset for u in utterances) for subset in ASR_SUBSETS}
    seconds = {
        subset: sum(r.seconds for u, r in zip(utterances, results, strict=True) if u.subset == subset)
        for subset in ASR_SUBSETS
    }
    return run.finish(
        out,
        manifest,
        lambda elapsed: CorpusSummary("asr", out, files, seconds, sum(r.bytes for r in results), elapsed),
        speakers=[{"subset": subset, **speaker.to_dict()} for subset in ASR_SUBSETS for speaker in speakers[subset]],
        seconds={subset: round(value, 3) for subset, value in seconds.items()},
    )


generate_asr = CorpusGenerator("LibriSpeech", ASRConfig, _write)
