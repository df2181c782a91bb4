"""Speech denoising corpus in the layout of VoiceBank+DEMAND (Valentini-Botinhao et al.).

Layout (the real set is 48 kHz; ours is 16 kHz, which a loader that resamples reads the same way)::

    <out>/clean_trainset_wav/p<spk>_<nnn>.wav   clean speech, 16 kHz mono 16-bit PCM
    <out>/noisy_trainset_wav/p<spk>_<nnn>.wav   the same speech plus noise, same name and length
    <out>/clean_testset_wav/ , noisy_testset_wav/
    <out>/log_trainset.txt, log_testset.txt     "<p<spk>_<nnn>> <noise kind> <SNR dB>" per line
    <out>/README.txt, <out>/generation.json

Train and test speakers are disjoint (and use disjoint eSpeak voice variants); train and test noise
never share a recording: synthetic noises are drawn fresh per file from per-file seeds, babble
comes from each split's own voices, and real recordings are split by file (or, for a single file,
by time) between train and test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fieldspec import check_fields
from nas.data.synth._audio import SAMPLE_RATE, scale_to_active_rms, trim_silence
from nas.data.synth._espeak import shared_synthesizer
from nas.data.synth._generator import CorpusGenerator, GeneratorRun
from nas.data.synth._noise import NoiseFolder, NoiseMaker, mix_at_snr
from nas.data.synth._output import (
    begin_manifest,
    prepare_output,
    write_audio,
    write_lines,
    write_text,
)
from nas.data.synth._pool import WorkerPool, progress_bar
from nas.data.synth._speakers import Speaker, make_speakers, split_variants, voice_names
from nas.data.synth._text import random_sentence
from nas.data.synth.settings import DENOISE, resolve_noise_kinds
from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError

__all__ = ["DENOISE_SPLITS", "DenoiseConfig", "generate_denoise"]

DENOISE_SPLITS: tuple[str, ...] = ("train", "test")

_GENERATOR = "centaurus-nas data denoise"
_TAG = 2
_FIRST_ID, _LAST_ID = 225, 376  # VCTK's speaker numbers, p225..p376


@dataclass(frozen=True)
class DenoiseConfig:
    """What the denoising corpus contains; the same config and seed give byte-identical files.

    ``train_utterances`` / ``test_utterances`` sentences are spread round-robin over
    ``train_speakers`` / ``test_speakers``. Clean speech is set to an active-speech level uniform in
    ``level_dbfs``, padded with ``pad_seconds`` of silence at each end, and mixed with one noise of
    a kind from ``noise_kinds`` at an SNR uniform in ``snr_db`` over the active speech (see
    :func:`nas.data.synth._noise.mix_at_snr`). With ``noise_dir``, ``test_noise_fraction`` of the
    recordings (at least one) is kept for the test set only.
    """

    seed: int = 0
    train_utterances: int = 800
    test_utterances: int = 100
    train_speakers: int = 12
    test_speakers: int = 2
    snr_db: tuple[float, float] = (-5.0, 20.0)
    noise_kinds: tuple[str, ...] | None = None
    noise_dir: str | None = None
    test_noise_fraction: float = 0.25
    level_dbfs: tuple[float, float] = (-32.0, -22.0)
    pad_seconds: tuple[float, float] = (0.1, 0.5)
    pitch_jitter: int = 4
    rate_jitter: float = 0.08

    def __post_init__(self) -> None:
        check_fields(self, DENOISE, "", DatasetError)
        resolve_noise_kinds(self.noise_kinds, self.noise_dir)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The noise kinds files draw from, defaults resolved."""
        return resolve_noise_kinds(self.noise_kinds, self.noise_dir)


@dataclass(frozen=True)
class _Utterance:
    name: str
    split: str
    text: str
    speaker: Speaker
    entropy: tuple[int, ...]


@dataclass(frozen=True)
class _Context:
    out: str
    config: DenoiseConfig
    babble_voices: dict[str, tuple[str, ...]]
    folders: dict[str, NoiseFolder | None]


@dataclass(frozen=True)
class _Result:
    name: str
    split: str
    seconds: float
    noise: str
    snr_db: float
    scale: float
    bytes: int


def _folder_names(split: str) -> tuple[str, str]:
    return f"clean_{split}set_wav", f"noisy_{split}set_wav"


def _make_pair(context: _Context, utterance: _Utterance) -> _Result:
    config = context.config
    rng = np.random.default_rng(utterance.entropy)
    speech = utterance.speaker.say(
        utterance.text, rng, pitch_jitter=config.pitch_jitter, rate_jitter=config.rate_jitter
    )
    speech = scale_to_active_rms(trim_silence(speech, SAMPLE_RATE), rng.uniform(*config.level_dbfs))
    lead, tail = (round(rng.uniform(*config.pad_seconds) * SAMPLE_RATE) for _ in range(2))
    clean = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
    kind = config.kinds[int(rng.integers(len(config.kinds)))]
    snr = float(rng.uniform(*config.snr_db))
    maker = NoiseMaker(context.babble_voices[utterance.split], context.folders[utterance.split])
    mixture = mix_at_snr(clean, maker.make(kind, len(clean), rng), snr)
    clean_folder, noisy_folder = _folder_names(utterance.split)
    root = Path(context.out)
    size = write_audio(root / clean_folder / f"{utterance.name}.wav", mixture.clean, SAMPLE_RATE, "WAV")
    size += write_audio(root / noisy_folder / f"{utterance.name}.wav", mixture.noisy, SAMPLE_RATE, "WAV")
    return _Result(utterance.name, utterance.split, len(clean) / SAMPLE_RATE, kind, snr, mixture.scale, size)


def _speaker_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct VCTK-style ids (p225..p376, then onwards if more are needed), in random order."""
    span = max(_LAST_ID - _FIRST_ID + 1, count)
    numbers = _FIRST_ID + rng.choice(span, size=count, replace=False)
    return [f"p{int(number)}" for number in numbers]


def _plan(config: DenoiseConfig) -> tuple[dict[str, list[Speaker]], list[_Utterance], dict[str, tuple[str, ...]]]:
    synthesizer = shared_synthesizer()
    root = np.random.default_rng([config.seed, _TAG, 0])
    train_variants, test_variants = split_variants(
        synthesizer.variants(), [0.0, config.test_speakers / (config.train_speakers + config.test_speakers)], root
    )
    ids = _speaker_ids(root, config.train_speakers + config.test_speakers)
    train_ids = sorted(ids[: config.train_speakers], key=lambda name: int(name[1:]))
    test_ids = sorted(ids[config.train_speakers :], key=lambda name: int(name[1:]))
    bases = synthesizer.base_voices()
    speakers = {
        "train": make_speakers(train_ids, bases, train_variants, root, synthesizer),
        "test": make_speakers(test_ids, bases, test_variants, root, synthesizer),
    }
    babble = {"train": voice_names(bases, train_variants), "test": voice_names(bases, test_variants)}
    utterances: list[_Utterance] = []
    for split_code, (split, count) in enumerate((("train", config.train_utterances), ("test", config.test_utterances))):
        group = speakers[split]
        numbers = dict.fromkeys((speaker.speaker_id for speaker in group), 0)
        for index in range(count):
            speaker = group[index % len(group)]
            numbers[speaker.speaker_id] += 1
            text = random_sentence(np.random.default_rng([config.seed, _TAG, 1, split_code, index]))
            name = f"{speaker.speaker_id}_{numbers[speaker.speaker_id]:03d}"
            utterances.append(_Utterance(name, split, text, speaker, (config.seed, _TAG, 2, split_code, index)))
    return speakers, utterances, babble


def _readme(config: DenoiseConfig) -> str:
    return (
        "Synthetic speech denoising corpus in the layout of VoiceBank+DEMAND (16 kHz instead of 48 kHz),\n"
        "generated offline with eSpeak NG by `centaurus-nas data denoise` (see generation.json).\n\n"
        f"seed: {config.seed}\n"
        f"train: {config.train_utterances} utterances by {config.train_speakers} speakers; "
        f"test: {config.test_utterances} utterances by {config.test_speakers} other speakers\n"
        f"noise: {', '.join(config.kinds)} at {config.snr_db[0]:g}..{config.snr_db[1]:g} dB SNR "
        "over the active speech\n\n"
        "clean_*set_wav and noisy_*set_wav hold files of identical names and lengths (16 kHz mono 16-bit PCM);\n"
        "log_trainset.txt and log_testset.txt give each file's noise kind and SNR in dB.\n"
        "Train and test speakers, voices and noise recordings are disjoint. Same seed and settings give\n"
        "byte-identical files.\n"
    )


def _write(out: Path, config: DenoiseConfig, run: GeneratorRun) -> CorpusSummary:
    folders: dict[str, NoiseFolder | None] = {"train": None, "test": None}
    if config.noise_dir:
        split_rng = np.random.default_rng([config.seed, _TAG, 3])
        folders["train"], folders["test"] = NoiseFolder(config.noise_dir).split(config.test_noise_fraction, split_rng)
    speakers, utterances, babble = _plan(config)
    entries = [name for split in DENOISE_SPLITS for name in _folder_names(split)]
    entries += ["log_trainset.txt", "log_testset.txt", "README.txt", "generation.json"]
    prepare_output(out, _GENERATOR, entries, run.overwrite)
    manifest = begin_manifest(out, _GENERATOR, "voicebank_demand", config, entries)
    for split in DENOISE_SPLITS:
        for name in _folder_names(split):
            (out / name).mkdir()
    context = _Context(str(out), config, babble, folders)
    with progress_bar(run.progress) as bar, WorkerPool(run.workers, context, bar) as pool:
        results = pool.run(_make_pair, utterances, "denoise pairs")
    for split in DENOISE_SPLITS:
        lines = [
            f"{r.name} {r.noise} {r.snr_db:.2f}" for r in sorted(results, key=lambda r: r.name) if r.split == split
        ]
        write_lines(out / f"log_{split}set.txt", lines)
    write_text(out / "README.txt", _readme(config))
    files = {split: sum(r.split == split for r in results) for split in DENOISE_SPLITS}
    seconds = {split: sum(r.seconds for r in results if r.split == split) for split in DENOISE_SPLITS}
    return run.finish(
        out,
        manifest,
        lambda elapsed: CorpusSummary("denoise", out, files, seconds, sum(r.bytes for r in results), elapsed),
        speakers=[{"split": split, **speaker.to_dict()} for split in DENOISE_SPLITS for speaker in speakers[split]],
        noise_files={split: list(folder.files) if folder else [] for split, folder in folders.items()},
        seconds={split: round(value, 3) for split, value in seconds.items()},
        utterances={
            utterance.name: {"text": utterance.text, "noise": result.noise, "scale": round(result.scale, 6)}
            for utterance, result in zip(utterances, results, strict=True)
        },
    )


generate_denoise = CorpusGenerator("VoiceBank+DEMAND", DenoiseConfig, _write)
