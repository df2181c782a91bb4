"""Metrics against closed forms and hand-counted edit distances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nas.tasks._asr import ALPHABET, encode
from nas.tasks.metrics import (
    character_error_rate,
    ctc_greedy_decode,
    pesq_wideband,
    si_snr,
    stoi,
    word_error_rate,
)


def test_si_snr_matches_the_closed_form_for_orthogonal_noise() -> None:
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(16000, generator=generator, dtype=torch.float64)
    reference -= reference.mean()
    noise = torch.randn(16000, generator=generator, dtype=torch.float64)
    noise -= noise.mean()
    noise -= (noise @ reference) / (reference @ reference) * reference  # orthogonal to the reference
    noise *= math.sqrt((reference @ reference) / (noise @ noise)) / math.sqrt(10.0)  # SNR 10 dB exactly
    assert float(si_snr(reference + noise, reference)) == pytest.approx(10.0, abs=1e-6)
    # Scale-invariant: any gain on the estimate leaves it unchanged.
    assert float(si_snr(0.3 * (reference + noise), reference)) == pytest.approx(10.0, abs=1e-6)


def test_si_snr_is_batched_over_leading_axes() -> None:
    x = torch.randn(2, 3, 400)
    y = x + 0.1 * torch.randn(2, 3, 400)
    values = si_snr(y, x)
    assert values.shape == (2, 3)
    assert float(values[1, 2]) == pytest.approx(float(si_snr(y[1, 2], x[1, 2])), rel=1e-5)


def _speechlike(seconds: float = 3.0, rate: int = 16000) -> np.ndarray:
    """Amplitude-modulated harmonic tones with pauses: enough 'speech' for PESQ's voice activity detector."""
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None) ** 0.5
    return (0.3 * voiced * envelope).astype(np.float32)


def test_pesq_and_stoi_rank_clean_above_noisy() -> None:
    clean = _speechlike()
    noisy = clean + np.random.default_rng(0).normal(0, 0.05, clean.shape).astype(np.float32)
    assert pesq_wideband(clean, clean, 16000) > 4.0
    assert pesq_wideband(clean, noisy, 16000) < pesq_wideband(clean, clean, 16000) - 1.0
    assert stoi(clean, clean, 16000) == pytest.approx(1.0, abs=1e-6)
    assert stoi(clean, noisy, 16000) < 0.99


def test_pesq_of_silence_is_none_not_an_exception() -> None:
    silence = np.zeros(32000, dtype=np.float32)
    assert pesq_wideband(silence, silence, 16000) is None


def test_ctc_greedy_decode_merges_repeats_and_drops_blanks() -> None:
    # frames: c c _ a a _ a t t  ->  "caat"   (a blank separates the two a's)
    path = [encode("c")[0]] * 2 + [0] + [encode("a")[0]] * 2 + [0] + [encode("a")[0]] + [encode("t")[0]] * 2
    scores = torch.full((1, len(ALPHABET) + 1, len(path) + 2), -10.0)
    for frame, index in enumerate(path):
        scores[0, index, frame] = 0.0
    scores[0, encode("z")[0], len(path) :] = 0.0  # frames past the length must be ignored
    assert ctc_greedy_decode(scores, torch.tensor([len(path)]), ALPHABET) == ["caat"]


def test_encode_keeps_only_the_alphabet() -> None:
    assert encode("It's 4 ME!") == [ALPHABET.index(c) + 1 for c in "it's  me"]


def test_error_rates_match_hand_counted_edits() -> None:
    references = ["the cat sat", "on the mat"]
    hypotheses = ["the bat sat down", "on mat"]
    # words: (1 substitution + 1 insertion) + 1 deletion over 6 reference words
    assert word_error_rate(references, hypotheses) == pytest.approx(3 / 6)
    # characters: "the cat sat" -> "the bat sat down": 1 sub + 5 ins; "on the mat" -> "on mat": 4 del; 21 ref chars
    assert character_error_rate(references, hypotheses) == pytest.approx(10 / 21)
    assert word_error_rate(["a  b"], ["a b"]) == 0.0  # whitespace is normalised
