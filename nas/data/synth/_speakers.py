"""Synthetic speakers: an eSpeak voice and variant with a base pitch, pitch range and speed.

Why speakers are split by variant: a variant (``f3``, ``klatt4``, ``m7``) sets the timbre (formants,
breathiness, glottal source), while the accent voice (``en-us``, ``en-gb-scotland``) mostly changes
pronunciation. A held-out speaker who shares a variant with a training speaker would sound like that
speaker with another accent, so :func:`split_variants` gives each split its own variants and
speakers of a split only use its variants: validation and test voices are never heard in training.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from nas.data.synth._audio import SAMPLE_RATE
from nas.data.synth._espeak import Synthesizer, shared_synthesizer
from nas.errors import DatasetError

__all__ = ["Speaker", "make_speakers", "speaker_hex_id", "split_variants", "voice_names"]

_PLAIN = ""  # eSpeak's voice without a variant counts as one more variant


@dataclass(frozen=True)
class Speaker:
    """One synthetic talker; ``say`` adds per-utterance jitter around its base pitch and speed."""

    speaker_id: str
    voice: str
    pitch: int
    pitch_range: int
    rate_wpm: int
    gender: str
    volume: int = 60  # below eSpeak's 100, where some variants clip; levels are set afterwards

    def jittered(self, rng: np.random.Generator, pitch_jitter: int = 0, rate_jitter: float = 0.0) -> Speaker:
        """This speaker on a given day: pitch +/- ``pitch_jitter``, speed x (1 +/- ``rate_jitter``)."""
        pitch = self.pitch + (int(rng.integers(-pitch_jitter, pitch_jitter + 1)) if pitch_jitter else 0)
        rate = self.rate_wpm * (1.0 + (rng.uniform(-rate_jitter, rate_jitter) if rate_jitter else 0.0))
        return replace(self, pitch=int(np.clip(pitch, 0, 100)), rate_wpm=int(np.clip(round(rate), 80, 450)))

    def say(
        self,
        text: str,
        rng: np.random.Generator,
        *,
        pitch_jitter: int = 0,
        rate_jitter: float = 0.0,
        rate_scale: float = 1.0,
        synthesizer: Synthesizer | None = None,
        sample_rate: int = SAMPLE_RATE,
    ) -> np.ndarray:
        """Speak ``text`` at ``sample_rate``, jittered as :meth:`jittered` and sped up by ``rate_scale``."""
        synthesizer = synthesizer or shared_synthesizer()
        talker = self.jittered(rng, pitch_jitter, rate_jitter)
        return synthesizer.speak(
            text,
            talker.voice,
            int(np.clip(round(talker.rate_wpm * rate_scale), 80, 450)),
            talker.pitch,
            talker.pitch_range,
            talker.volume,
            seed=int(rng.integers(2**31)),
            target_rate=sample_rate,
        )

    def to_dict(self) -> dict[str, object]:
        """Plain fields, for generation.json."""
        return asdict(self)


def split_variants(
    variants: Sequence[str], fractions: Sequence[float], rng: np.random.Generator
) -> list[tuple[str, ...]]:
    """Partition ``variants`` plus the plain voice into disjoint groups, one per fraction (each >= 1 variant).

    The first group takes what the others leave, so pass the training split first.
    """
    pool = [_PLAIN, *sorted(variants)]
    order = [pool[int(index)] for index in rng.permutation(len(pool))]
    counts = [max(1, round(fraction * len(pool))) for fraction in fractions[1:]]
    if sum(counts) >= len(pool):
        raise DatasetError(f"cannot split {len(pool)} voice variants into {len(fractions)} disjoint groups")
    groups: list[tuple[str, ...]] = []
    start = 0
    for count in counts:
        groups.append(tuple(sorted(order[start : start + count])))
        start += count
    return [tuple(sorted(order[start:])), *groups]


def _voice_name(base: str, variant: str) -> str:
    return f"{base}+{variant}" if variant else base


def voice_names(bases: Sequence[str], variants: Sequence[str]) -> tuple[str, ...]:
    """Every accent with every variant (``""`` meaning the plain voice), e.g. for a split's babble talkers."""
    return tuple(_voice_name(base, variant) for base in bases for variant in variants)


def make_speakers(
    ids: Sequence[str],
    bases: Sequence[str],
    variants: Sequence[str],
    rng: np.random.Generator,
    synthesizer: Synthesizer | None = None,
) -> list[Speaker]:
    """One speaker per id: distinct (accent, variant) pairs while they last, random base pitch, range, speed."""
    synthesizer = synthesizer or shared_synthesizer()
    pairs = [(base, variant) for variant in variants for base in bases]
    order = list(rng.permutation(len(pairs)))
    while len(order) < len(ids):  # more speakers than pairs: reuse pairs, other pitch and speed
        order += list(rng.permutation(len(pairs)))
    speakers = []
    for speaker_id, index in zip(ids, order, strict=False):
        voice = _voice_name(*pairs[int(index)])
        speakers.append(
            Speaker(
                speaker_id=speaker_id,
                voice=voice,
                pitch=int(rng.integers(30, 71)),
                pitch_range=int(rng.integers(30, 81)),
                rate_wpm=int(rng.integers(140, 211)),
                gender=synthesizer.gender(voice),
            )
        )
    return speakers


def speaker_hex_id(seed: int, split: str, index: int, taken: set[str]) -> str:
    """8 hex characters, a hash of (seed, split, index), like Speech Commands' speaker hashes; unique in ``taken``."""
    salt = 0
    while True:
        digest = hashlib.blake2b(f"{seed}:{split}:{index}:{salt}".encode(), digest_size=4).hexdigest()
        if digest not in taken:
            taken.add(digest)
            return digest
        salt += 1
