"""Keyword spotting corpus in the layout of Google Speech Commands v2.

Layout (what a Speech Commands loader reads, so ours and the real one load the same way)::

    <out>/<word>/<speaker>_nohash_<k>.wav   16 kHz mono 16-bit PCM, exactly 16000 samples
    <out>/validation_list.txt               "<word>/<file>.wav" per line
    <out>/testing_list.txt                  (every other clip is training)
    <out>/_background_noise_/*.wav          long noise recordings for augmentation
    <out>/README.txt, <out>/generation.json seed, settings, speakers, per-clip noise and SNR

``<speaker>`` is 8 hex characters per synthetic speaker and ``k`` counts that speaker's repetitions
of the word. Validation and test speakers are disjoint from training speakers and use eSpeak voice
variants that no training speaker uses (see :mod:`nas.data.synth._speakers`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fieldspec import check_fields, fail
from nas.data.synth._audio import SAMPLE_RATE, scale_to_peak, trim_silence
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
from nas.data.synth._speakers import Speaker, make_speakers, speaker_hex_id, split_variants, voice_names
from nas.data.synth.settings import KWS, SPEECH_COMMANDS_WORDS, resolve_noise_kinds
from nas.data.synth.summary import CorpusSummary
from nas.errors import DatasetError

__all__ = ["KWS_SPLITS", "SPEECH_COMMANDS_WORDS", "KWSConfig", "generate_kws"]

KWS_SPLITS: tuple[str, ...] = ("train", "validation", "testing")

_GENERATOR = "centaurus-nas data kws"
_TAG = 1  # corpus tag in every seed, so the three corpora never share random streams
_BACKGROUND = "_background_noise_"
_CLIP = SAMPLE_RATE  # exactly one second
_BACKGROUND_NAMES = {
    "white": "white_noise.wav",
    "pink": "pink_noise.wav",
    "brown": "brown_noise.wav",
    "hum": "mains_hum.wav",
    "babble": "babble.wav",
}
_MAX_REAL_BACKGROUNDS = 8


@dataclass(frozen=True)
class KWSConfig:
    """What the KWS corpus contains; the same config and seed give byte-identical files.

    ``per_word`` clips of each of ``words`` are spread over ``speakers`` synthetic speakers (each
    speaker says each word about ``per_word / speakers`` times). ``validation_fraction`` and
    ``testing_fraction`` of the speakers (at least one each when non-zero) form the held-out splits.
    A ``clean_fraction`` of clips stays noise-free; the others get noise of a kind drawn from
    ``noise_kinds`` (default: white, pink, brown, hum, babble, plus real when ``noise_dir`` is set)
    at an SNR uniform in ``snr_db``, measured over the spoken word. ``background_seconds`` sets the
    length of each ``_background_noise_`` file. Isolated commands are said more slowly than running
    speech, so each speaker's rate is scaled by ``word_rate_scale``; a word longer than
    ``max_word_seconds`` is said again faster rather than cut.
    """

    seed: int = 0
    per_word: int = 100
    speakers: int = 48
    words: tuple[str, ...] = SPEECH_COMMANDS_WORDS
    validation_fraction: float = 0.1
    testing_fraction: float = 0.1
    snr_db: tuple[float, float] = (5.0, 30.0)
    clean_fraction: float = 0.2
    noise_kinds: tuple[str, ...] | None = None
    noise_dir: str | None = None
    background_seconds: float = 60.0
    peak_dbfs: tuple[float, float] = (-18.0, -2.0)
    pitch_jitter: int = 8
    rate_jitter: float = 0.12
    word_rate_scale: float = 0.8
    max_word_seconds: float = 0.95

    def __post_init__(self) -> None:
        check_fields(self, KWS, "", DatasetError)
        for word in self.words:
            if not word.isascii() or not word.isalpha() or not word.islower():
                fail(DatasetError, "words", f"a list with {word!r}", "keywords of lower-case letters a-z only")
        resolve_noise_kinds(self.noise_kinds, self.noise_dir)
        _split_counts(self)  # raises when the speakers cannot be split

    @property
    def kinds(self) -> tuple[str, ...]:
        """The noise kinds clips draw from, defaults resolved."""
        return resolve_noise_kinds(self.noise_kinds, self.noise_dir)


def _split_counts(config: KWSConfig) -> dict[str, int]:
    held = {
        split: (max(1, round(fraction * config.speakers)) if fraction > 0 else 0)
        for split, fraction in (("validation", config.validation_fraction), ("testing", config.testing_fraction))
    }
    train = config.speakers - sum(held.values())
    if train < 1:
        raise DatasetError(
            f"speakers={config.speakers} leaves no training speaker after {held['validation']} validation and "
            f"{held['testing']} testing speakers; use more speakers or smaller fractions"
        )
    return {"train": train, **held}


@dataclass(frozen=True)
class _Clip:
    path: str
    split: str
    word: str
    speaker: Speaker
    entropy: tuple[int, ...]


@dataclass(frozen=True)
class _Background:
    name: str
    kind: str
    source: str | None
    entropy: tuple[int, ...]


@dataclass(frozen=True)
class _Context:
    out: str
    config: KWSConfig
    babble_voices: dict[str, tuple[str, ...]]
    folder: NoiseFolder | None


@dataclass(frozen=True)
class _ClipResult:
    path: str
    split: str
    speech_seconds: float
    noise: str
    snr_db: float | None
    scale: float
    bytes: int


def _make_clip(context: _Context, clip: _Clip) -> _ClipResult:
    config = context.config
    rng = np.random.default_rng(clip.entropy)
    talker = clip.speaker.jittered(rng, config.pitch_jitter, config.rate_jitter)
    speed = config.word_rate_scale
    speech = trim_silence(talker.say(clip.word, rng, rate_scale=speed), SAMPLE_RATE)
    limit = int(config.max_word_seconds * SAMPLE_RATE)
    for _ in range(4):  # too long for the window: say it faster rather than cut the word
        if len(speech) <= limit:
            break
        speed *= max(1.05, len(speech) / limit * 1.05)
        speech = trim_silence(talker.say(clip.word, rng, rate_scale=speed), SAMPLE_RATE)
    if len(speech) > limit:  # eSpeak's top speed was not enough: squeeze in time as a last resort
        speech = np.interp(np.linspace(0, len(speech) - 1, limit), np.arange(len(speech)), speech)
    if len(speech) == 0:
        raise DatasetError(f"eSpeak produced silence for {clip.word!r} with voice {clip.speaker.voice}")
    speech = scale_to_peak(speech, rng.uniform(*config.peak_dbfs))
    offset = int(rng.integers(0, _CLIP - len(speech) + 1))
    placed = np.zeros(_CLIP, dtype=np.float32)
    placed[offset : offset + len(speech)] = speech
    noise, snr, scale = "none", None, 1.0
    audio = placed
    if rng.random() >= config.clean_fraction:
        kinds = config.kinds
        noise = kinds[int(rng.integers(len(kinds)))]
        snr = float(rng.uniform(*config.snr_db))
        maker = NoiseMaker(context.babble_voices[clip.split], context.folder)
        active = np.zeros(_CLIP, dtype=bool)
        active[offset : offset + len(speech)] = True
        mixture = mix_at_snr(placed, maker.make(noise, _CLIP, rng), snr, active=active)
        audio, scale = mixture.noisy, mixture.scale
    size = write_audio(Path(context.out) / clip.path, audio, SAMPLE_RATE, "WAV")
    return _ClipResult(clip.path, clip.split, len(speech) / SAMPLE_RATE, noise, snr, scale, size)


def _make_background(context: _Context, background: _Background) -> tuple[str, float, int]:
    rng = np.random.default_rng(background.entropy)
    length = round(context.config.background_seconds * SAMPLE_RATE)
    if background.kind == "real":
        assert context.folder is not None and background.source is not None
        folder = context.folder.only(background.source)
        length = min(length, round(folder.seconds(background.source) * SAMPLE_RATE))
        noise = folder.excerpt(length, rng)
    else:
        noise = NoiseMaker(context.babble_voices["train"]).make(background.kind, length, rng)
    noise = noise * 0.1  # -20 dBFS RMS, like a quiet recording; loaders rescale anyway
    peak = float(np.max(np.abs(noise))) if length else 0.0
    if peak > 0.99:
        noise = noise * (0.99 / peak)
    path = Path(context.out) / _BACKGROUND / background.name
    return background.name, length / SAMPLE_RATE, write_audio(path, noise, SAMPLE_RATE, "WAV")


def _plan(config: KWSConfig) -> tuple[dict[str, list[Speaker]], list[_Clip], dict[str, tuple[str, ...]]]:
    synthesizer = shared_synthesizer()
    root = np.random.default_rng([config.seed, _TAG, 0])
    counts = _split_counts(config)
    splits = [split for split in KWS_SPLITS if counts[split] > 0]
    fractions = {"train": 0.0, "validation": config.validation_fraction, "testing": config.testing_fraction}
    groups = split_variants(synthesizer.variants(), [fractions[split] for split in splits], root)
    speakers: dict[str, list[Speaker]] = {split: [] for split in KWS_SPLITS}
    babble: dict[str, tuple[str, ...]] = {split: () for split in KWS_SPLITS}
    taken: set[str] = set()
    for split, variants in zip(splits, groups, strict=True):
        ids = [speaker_hex_id(config.seed, split, index, taken) for index in range(counts[split])]
        speakers[split] = make_speakers(ids, synthesizer.base_voices(), variants, root, synthesizer)
        babble[split] = voice_names(synthesizer.base_voices(), variants)
    everyone = [(split, speaker) for split in KWS_SPLITS for speaker in speakers[split]]
    clips: list[_Clip] = []
    for word_index, word in enumerate(config.words):
        order = np.random.default_rng([config.seed, _TAG, 1, word_index]).permutation(len(everyone))
        repetitions: Counter[str] = Counter()
        for clip_index in range(config.per_word):
            split, speaker = everyone[int(order[clip_index % len(everyone)])]
            k = repetitions[speaker.speaker_id]
            repetitions[speaker.speaker_id] += 1
            path = f"{word}/{speaker.speaker_id}_nohash_{k}.wav"
            clips.append(_Clip(path, split, word, speaker, (config.seed, _TAG, 2, word_index, clip_index)))
    return speakers, clips, babble


def _backgrounds(config: KWSConfig, folder: NoiseFolder | None) -> list[_Background]:
    if config.background_seconds <= 0:
        return []
    jobs = [
        _Background(name, kind, None, (config.seed, _TAG, 3, index))
        for index, (kind, name) in enumerate(_BACKGROUND_NAMES.items())
    ]
    if folder is not None:
        for index, source in enumerate(folder.files[:_MAX_REAL_BACKGROUNDS]):
            stem = "".join(char if char.isalnum() or char in "-_" else "_" for char in Path(source).stem)
            name = f"real_{index:02d}_{stem}.wav"
            jobs.append(_Background(name, "real", source, (config.seed, _TAG, 4, index)))
    return jobs


def _readme(config: KWSConfig, counts: dict[str, int]) -> str:
    return (
        "Synthetic keyword-spotting corpus in the layout of Google Speech Commands v2\n"
        "generated offline with eSpeak NG by `centaurus-nas data kws` (see generation.json).\n\n"
        f"seed: {config.seed}\n"
        f"words: {len(config.words)} ({' '.join(config.words)})\n"
        f"clips per word: {config.per_word}; speakers: {config.speakers} "
        f"(train {counts['train']}, validation {counts['validation']}, testing {counts['testing']})\n"
        f"noise: {', '.join(config.kinds)} at {config.snr_db[0]:g}..{config.snr_db[1]:g} dB SNR over the word; "
        f"{config.clean_fraction:.0%} of clips clean\n\n"
        "Each clip is 1 s (16000 samples) of 16 kHz mono 16-bit PCM. validation_list.txt and testing_list.txt\n"
        "list held-out clips; their speakers and eSpeak voice variants never occur in training.\n"
        "_background_noise_/ holds long noise recordings for augmentation.\n"
        "Same seed and settings give byte-identical files.\n"
    )


def _write(out: Path, config: KWSConfig, run: GeneratorRun) -> CorpusSummary:
    folder = NoiseFolder(config.noise_dir) if config.noise_dir else None
    speakers, clips, babble = _plan(config)
    backgrounds = _backgrounds(config, folder)
    entries = [*config.words, _BACKGROUND, "validation_list.txt", "testing_list.txt", "README.txt", "generation.json"]
    prepare_output(out, _GENERATOR, entries, run.overwrite)
    manifest = begin_manifest(out, _GENERATOR, "speech_commands_v2", config, entries)
    for word in config.words:
        (out / word).mkdir()
    if backgrounds:
        (out / _BACKGROUND).mkdir()
    context = _Context(str(out), config, babble, folder)
    with progress_bar(run.progress) as bar, WorkerPool(run.workers, context, bar) as pool:
        written = pool.run(_make_background, backgrounds, "kws noise")
        results = pool.run(_make_clip, clips, "kws clips")
    held_out = {split: sorted(result.path for result in results if result.split == split) for split in KWS_SPLITS}
    write_lines(out / "validation_list.txt", held_out["validation"])
    write_lines(out / "testing_list.txt", held_out["testing"])
    write_text(out / "README.txt", _readme(config, {split: len(group) for split, group in speakers.items()}))
    files = {split: sum(result.split == split for result in results) for split in KWS_SPLITS}
    clip_seconds = {split: float(count) for split, count in files.items()}  # one second a clip
    total_bytes = sum(result.bytes for result in results) + sum(size for _, _, size in written)
    extra = tuple(f"{_BACKGROUND}/{name}" for name, _, _ in written)
    return run.finish(
        out,
        manifest,
        lambda elapsed: CorpusSummary("kws", out, files, clip_seconds, total_bytes, elapsed, extra_files=extra),
        speakers=[{"split": split, **speaker.to_dict()} for split in KWS_SPLITS for speaker in speakers[split]],
        noise_files=list(folder.files) if folder else [],
        background_noise={name: seconds for name, seconds, _ in written},
        clips={
            result.path: {
                "noise": result.noise,
                "snr_db": None if result.snr_db is None else round(result.snr_db, 3),
                "speech_seconds": round(result.speech_seconds, 4),
                "scale": round(result.scale, 6),
            }
            for result in results
        },
    )


generate_kws = CorpusGenerator("Speech Commands v2", KWSConfig, _write)
