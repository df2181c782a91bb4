"""The inputs an export is checked on: speech-like audio at several levels (quiet ones included), a word
padded with digital silence, noise and silence.

One random input hid the ONNX error that real clips showed. On the 91 test clips of the quick-start
corpus an exported keyword spotter was off by up to 4e-4 of its output scale (14 clips above the 1e-4
tolerance), while unit-variance noise gave 1.2e-5. The error is onnxruntime's float32 DFT of the log-mel
frontend's 400-point frames: its absolute error follows a frame's loudest bins, and ``log(mel + 1e-6)``
turns it into a large error wherever a band is near the floor. Noise fills every band, so it hides the
problem; clean voiced speech (harmonics, nothing between them, nothing above a few kHz) and clips
zero-padded to one second (the worst clip was 66% exact zeros) expose it: 2.2e-3 on the clean
speech-like probe below at -10 dBFS, 1.3e-4 at -26 dBFS. So the check feeds:

* a synthetic voiced signal (a harmonic series on a moving pitch, shaped by three formants, in
  syllable-like bursts separated by pauses, without any noise floor) at RMS levels from -10 dBFS
  down to -66 dBFS;
* the same signal for the first 40% of the input, then exact zeros, as a short clip padded to length;
* white noise at -20 dBFS, unit-variance Gaussian noise (the old single probe), and silence with a
  1e-6 dither, which a streaming device meets between words.

Everything is seeded, so an export's check is reproducible.
"""

from __future__ import annotations

import math

import torch

SPEECH_LEVELS_DBFS: tuple[float, ...] = (-10.0, -26.0, -46.0, -66.0)
"""RMS levels (dB relative to full scale 1.0) of the speech-like probes."""


def _speech_like(length: int, sample_rate: int, offset: float) -> torch.Tensor:
    time = torch.arange(length, dtype=torch.float64) / sample_rate + offset
    pitch = 140.0 + 40.0 * torch.sin(2 * math.pi * 2.5 * time)  # Hz, a slowly moving intonation
    phase = 2 * math.pi * torch.cumsum(pitch, 0) / sample_rate
    signal = torch.zeros(length, dtype=torch.float64)
    for harmonic in range(1, int(0.45 * sample_rate / 180.0) + 1):  # below Nyquist at the highest pitch
        frequency = harmonic * pitch
        formants = sum(torch.exp(-(((frequency - centre) / 250.0) ** 2)) for centre in (500.0, 1500.0, 2500.0))
        signal += (formants + 0.05) / harmonic * torch.sin(harmonic * phase)
    syllables = torch.clamp(torch.sin(2 * math.pi * 3.0 * time), min=0.0).sqrt()  # bursts and pauses
    return signal * syllables


def _at_level(signal: torch.Tensor, dbfs: float) -> torch.Tensor:
    rms = float(signal.pow(2).mean().sqrt())
    return signal * (10.0 ** (dbfs / 20.0) / max(rms, 1e-30))


def check_inputs(batch: int, channels: int, length: int, sample_rate: int = 16000) -> list[tuple[str, torch.Tensor]]:
    """``(name, float32 tensor of shape (batch, channels, length))`` for every probe, in a fixed order."""
    generator = torch.Generator().manual_seed(1)
    shape = (batch, channels, length)
    streams = range(batch * channels)  # each stream starts at another point of the phrase
    speech = torch.stack([_speech_like(length, sample_rate, 0.37 * index) for index in streams]).reshape(shape)
    probes = [(f"speech-like at {level:g} dBFS", _at_level(speech, level)) for level in SPEECH_LEVELS_DBFS]
    padded = _at_level(speech, -26.0)
    padded[..., int(0.4 * length) :] = 0.0
    probes.append(("a word at -26 dBFS, then digital silence", padded))
    probes.append(("white noise at -20 dBFS", 0.1 * torch.randn(shape, generator=generator, dtype=torch.float64)))
    probes.append(("unit Gaussian noise", torch.randn(shape, generator=generator, dtype=torch.float64)))
    probes.append(("silence (1e-6 dither)", 1e-6 * torch.randn(shape, generator=generator, dtype=torch.float64)))
    return [(name, probe.float()) for name, probe in probes]
