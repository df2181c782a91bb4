"""Small signal helpers shared by the corpus writers: silence trimming, levels, 16-bit conversion."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
"""The rate every corpus is written at."""

_FRAME_MS = 10.0


def frame_rms_db(audio: np.ndarray, sample_rate: int, frame_ms: float = _FRAME_MS) -> np.ndarray:
    """RMS level in dB of consecutive frames (the last, partial frame included)."""
    frame = max(1, round(sample_rate * frame_ms / 1000.0))
    count = -(-len(audio) // frame)
    padded = np.zeros(count * frame, dtype=np.float64)
    padded[: len(audio)] = audio
    power = np.mean(padded.reshape(count, frame) ** 2, axis=1)
    return 10.0 * np.log10(power + 1e-20)


def active_speech_mask(
    audio: np.ndarray, sample_rate: int = SAMPLE_RATE, floor_db: float = -40.0, frame_ms: float = _FRAME_MS
) -> np.ndarray:
    """Samples of frames whose level is within ``floor_db`` of the loudest frame.

    A crude ITU-T P.56: TTS pauses are near digital silence, so a floor relative to the loudest
    10 ms frame separates speech from pauses well enough to define an "active speech" SNR.
    """
    if len(audio) == 0:
        return np.zeros(0, dtype=bool)
    levels = frame_rms_db(audio, sample_rate, frame_ms)
    frame = max(1, round(sample_rate * frame_ms / 1000.0))
    active_frames = levels >= levels.max() + floor_db
    return np.repeat(active_frames, frame)[: len(audio)]


def trim_silence(audio: np.ndarray, sample_rate: int, floor_db: float = -45.0, pad_ms: float = 10.0) -> np.ndarray:
    """Cut eSpeak's leading and trailing near-silence, keeping ``pad_ms`` around the speech."""
    mask = active_speech_mask(audio, sample_rate, floor_db)
    active = np.flatnonzero(mask)
    if len(active) == 0:
        return audio[:0]
    pad = round(sample_rate * pad_ms / 1000.0)
    return audio[max(0, active[0] - pad) : min(len(audio), active[-1] + 1 + pad)]


def scale_to_peak(audio: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scale so that the largest magnitude is ``peak_dbfs`` dB below full scale."""
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak == 0.0:
        return audio.astype(np.float32)
    return (audio * (10.0 ** (peak_dbfs / 20.0) / peak)).astype(np.float32)


def scale_to_active_rms(audio: np.ndarray, level_dbfs: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Scale so that the RMS over the active speech (see :func:`active_speech_mask`) is ``level_dbfs``."""
    mask = active_speech_mask(audio, sample_rate)
    if not mask.any():
        return audio.astype(np.float32)
    rms = float(np.sqrt(np.mean(audio[mask].astype(np.float64) ** 2)))
    return (audio * (10.0 ** (level_dbfs / 20.0) / rms)).astype(np.float32)


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Round float audio in [-1, 1] to int16 ourselves, so the bytes do not depend on libsndfile's rounding."""
    return np.round(np.clip(audio, -1.0, 32767.0 / 32768.0) * 32768.0).astype(np.int16)


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad ``audio`` to exactly ``length`` samples."""
    if len(audio) >= length:
        return audio[:length]
    return np.concatenate([audio, np.zeros(length - len(audio), dtype=audio.dtype)])
