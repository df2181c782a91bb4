"""Task metrics: SI-SNR (and its improvement), PESQ, STOI, CTC greedy decoding, CER and WER.

PESQ (ITU-T P.862, ``pesq``) and STOI (``pystoi``) are the standard speech-enhancement scores;
CER and WER come from ``jiwer`` (Levenshtein distance over characters and words).
"""

from __future__ import annotations

from collections.abc import Sequence

import jiwer
import numpy as np
import torch

_EPS = 1e-8


def si_snr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Scale-invariant signal-to-noise ratio in dB over the last axis (both signals made zero-mean).

    SI-SNR = 10 log10(|s_t|^2 / |e - s_t|^2) with s_t = <e, s> s / |s|^2: the part of the estimate
    along the reference counts as signal whatever its gain.
    """
    estimate = estimate - estimate.mean(dim=-1, keepdim=True)
    reference = reference - reference.mean(dim=-1, keepdim=True)
    scale = (estimate * reference).sum(dim=-1, keepdim=True) / (reference.pow(2).sum(dim=-1, keepdim=True) + _EPS)
    target = scale * reference
    noise = estimate - target
    return 10 * torch.log10((target.pow(2).sum(dim=-1) + _EPS) / (noise.pow(2).sum(dim=-1) + _EPS))


def pesq_wideband(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float | None:
    """Wide-band PESQ (MOS-LQO, about 1.0-4.6) at 16 kHz (narrow-band at 8 kHz); ``None`` when the
    reference holds no speech PESQ can find (its ``NoUtterancesError``)."""
    from pesq import NoUtterancesError, pesq

    mode = "wb" if sample_rate == 16000 else "nb"
    if sample_rate not in (8000, 16000):
        raise ValueError(f"PESQ needs 8 or 16 kHz audio; got {sample_rate} Hz")
    if not np.any(reference) or not np.any(degraded):
        return None  # PESQ normalises by the peak: an all-zero signal has no level to find
    try:
        return float(pesq(sample_rate, reference.astype(np.float64), degraded.astype(np.float64), mode))
    except NoUtterancesError:
        return None


def stoi(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """Short-time objective intelligibility (0-1), classic (not extended) STOI."""
    from pystoi import stoi as _stoi

    return float(_stoi(reference.astype(np.float64), degraded.astype(np.float64), sample_rate, extended=False))


def ctc_greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor, alphabet: str) -> list[str]:
    """Best path decoding of ``(batch, vocabulary + 1, frames)`` scores: per-frame argmax, merge
    repeats, drop the blank (index 0); index ``i >= 1`` is ``alphabet[i - 1]``."""
    best = log_probs.argmax(dim=1).cpu()
    texts = []
    for row, length in zip(best, lengths.tolist(), strict=True):
        previous, characters = 0, []
        for index in row[:length].tolist():
            if index != previous and index != 0:
                characters.append(alphabet[index - 1])
            previous = index
        texts.append("".join(characters))
    return texts


def _normalise(text: str) -> str:
    return " ".join(text.split())


def character_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Total character edits over total reference characters (corpus-level, not a mean of rates)."""
    references = [_normalise(text) for text in references]
    hypotheses = [_normalise(text) for text in hypotheses]
    return float(jiwer.cer(references, hypotheses))


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Total word edits over total reference words; an empty hypothesis counts all its words deleted."""
    references = [_normalise(text) for text in references]
    hypotheses = [_normalise(text) for text in hypotheses]
    return float(jiwer.wer(references, hypotheses))
