"""The log-mel frontend against torchaudio's MelSpectrogram, chunk by chunk, and inside the task networks."""

from __future__ import annotations

import pytest
import torch
import torchaudio

from centaurus import CentaurusConfigError
from centaurus.networks import build
from centaurus.networks.frontend import LOG_FLOOR, LogMelFrontend
from search_spaces import Architecture, FrontendSpec, InputSpec, OutputSpec, Stage

RATE, MELS, WINDOW, HOP = 16000, 40, 400, 160


def _frontend(channels: int = 1) -> LogMelFrontend:
    return LogMelFrontend(channels, RATE, MELS, WINDOW, HOP).double().eval()


def _torchaudio_logmel(audio: torch.Tensor) -> torch.Tensor:
    """An independent computation: torchaudio's (uncentred) mel spectrogram of the causally padded signal."""
    transform = torchaudio.transforms.MelSpectrogram(
        RATE, n_fft=WINDOW, hop_length=HOP, n_mels=MELS, center=False, power=2.0, mel_scale="htk", norm=None
    ).double()
    padded = torch.nn.functional.pad(audio, (WINDOW - HOP, 0))
    return torch.log(transform(padded) + LOG_FLOOR)  # (batch, channels, mels, frames)


def test_features_are_torchaudio_log_mel_energies() -> None:
    audio = torch.randn(3, 2, 4000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    frontend = _frontend(channels=2)  # fresh running statistics: eval-mode normalisation is x / sqrt(1 + eps)
    with torch.no_grad():
        features = frontend(audio) * (1 + frontend.norm.eps) ** 0.5
    expected = _torchaudio_logmel(audio).reshape(3, 2 * MELS, -1)
    assert features.shape == (3, 2 * MELS, 4000 // HOP)  # causal framing: one frame per hop
    torch.testing.assert_close(features, expected, rtol=1e-9, atol=1e-9)


def test_a_frame_reads_only_the_past() -> None:
    audio = torch.randn(1, 1, 3200, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    changed = audio.clone()
    changed[..., 1600:] += 1.0  # frames ending at or before sample 1600 must not move
    frontend = _frontend()
    with torch.no_grad():
        before, after = frontend(audio), frontend(changed)
    torch.testing.assert_close(before[..., :10], after[..., :10], rtol=0, atol=0)
    assert not torch.allclose(before[..., 10], after[..., 10])


@pytest.mark.parametrize("chunk_hops", [1, 3, 7])
def test_streaming_equals_the_whole_signal(chunk_hops: int) -> None:
    audio = torch.randn(2, 1, 42 * HOP, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    frontend = _frontend()
    with torch.no_grad():
        whole = frontend(audio)
        stream = frontend.stream(batch=2)
        step = chunk_hops * HOP
        pieces = [stream(audio[..., start : start + step]) for start in range(0, audio.shape[-1], step)]
    torch.testing.assert_close(torch.cat(pieces, dim=-1), whole, rtol=1e-12, atol=1e-12)
    stream.reset()
    assert not stream.history.any()
    with pytest.raises(CentaurusConfigError, match=f"multiple of the frontend's hop {HOP}"):
        stream(audio[..., : HOP + 1])


def test_the_frontend_trains_nothing_and_saves_nothing() -> None:
    """No parameters; its normalisation learns running statistics in training mode only."""
    frontend = LogMelFrontend(1, RATE, MELS, WINDOW, HOP)
    assert not list(frontend.parameters())
    frontend.train()(torch.randn(4, 1, 1600))
    assert frontend.norm.num_batches_tracked == 1 and frontend.norm.running_mean.abs().sum() > 0


def test_bad_frontend_sizes_are_named() -> None:
    with pytest.raises(CentaurusConfigError, match="0 < hop <= window"):
        LogMelFrontend(1, RATE, MELS, 400, 401)


@pytest.mark.parametrize("task", ["kws", "asr"])
def test_networks_with_a_frontend_stream_like_the_full_sequence(task: str) -> None:
    arch = Architecture(
        task,
        InputSpec(length=16000, frontend=FrontendSpec(mels=24)),
        OutputSpec(10 if task == "kws" else 28),
        (Stage("dws", 16, 8, stride=2, norm="batch"), Stage("neck", 32, 8, bottleneck_ratio=0.5, norm="batch")),
    )
    assert arch.total_stride == 2 * 160
    torch.manual_seed(0)
    network = build(arch).double().eval()
    audio = torch.randn(1, 1, 16000, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full = network(audio)
        stream = network.stream(batch=1)
        pieces = [stream(audio[..., start : start + 3200]) for start in range(0, 16000, 3200)]
    streamed = pieces[-1] if task == "kws" else torch.cat(pieces, dim=-1)
    torch.testing.assert_close(streamed, full, rtol=1e-9, atol=1e-9)
