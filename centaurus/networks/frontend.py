"""A fixed log-mel feature frontend between the waveform and a network's first stage.

It frames the signal itself (``unfold``), then runs a real FFT per Hann-windowed frame and a matmul
with the mel filterbank, rather than calling ``torch.stft``. Why:

- streaming is exact. Frames are causal: the signal is padded on the left with ``window - hop``
  zeros, so a chunk of ``k * hop`` samples yields exactly ``k`` frames once the previous
  ``window - hop`` samples are carried (``stft`` centres its frames, which needs the future);
- the cost model prices it with the same conventions as the SSM layers: one real FFT of
  ``window`` points per frame (2.5 N log2 N) and one matmul, which the measurement sees as such;
- it exports like the rest of the network (ONNX ``DFT``, as the SSM layers' FFTs); with the
  ``frontend_dft="matmul"`` execution policy (:mod:`centaurus.policy`) the per-frame DFT is two
  matmuls with cos/sin tables instead (:func:`matmul_dft_features`), which onnxruntime computes
  accurately in float32 where its 400-point DFT does not.

The frontend has no trainable parameters. Its per-band normalisation keeps running statistics (a
BatchNorm without affine terms): it learns the bands' scale while the network trains, and in eval
mode it is a fixed per-band affine map, so it streams exactly too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.policy import DEFAULT_POLICY, ExecutionPolicy

FRONTEND_KINDS: tuple[str, ...] = ("logmel",)

LOG_FLOOR = 1e-6
"""Added to the mel energies before the log: silence maps to log(1e-6), not to minus infinity."""


class LogMelFrontend(nn.Module):
    """``(batch, channels, k * hop) -> (batch, channels * mels, k)``: normalised log mel energies per frame."""

    hann: torch.Tensor
    filterbank: torch.Tensor
    policy: ExecutionPolicy

    def __init__(
        self,
        channels: int,
        sample_rate: int,
        mels: int,
        window: int,
        hop: int,
        *,
        policy: ExecutionPolicy = DEFAULT_POLICY,
    ) -> None:
        super().__init__()
        self.policy = policy
        if not 0 < hop <= window or not 0 < mels <= window // 2 + 1:
            raise CentaurusConfigError(
                f"frontend: got mels={mels}, window={window}, hop={hop}; allowed: 0 < hop <= window, "
                f"0 < mels <= window // 2 + 1"
            )
        self.channels, self.mels, self.window, self.hop = channels, mels, window, hop
        self.context = window - hop  # samples of the previous chunk each new frame still reads
        bins = window // 2 + 1
        self.register_buffer("hann", torch.hann_window(window, periodic=True))
        filterbank = torchaudio.functional.melscale_fbanks(bins, 0.0, sample_rate / 2, mels, sample_rate)
        self.register_buffer("filterbank", filterbank.float())  # (bins, mels)
        self.norm = nn.BatchNorm1d(channels * mels, affine=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.features(F.pad(audio, (self.context, 0)))

    def features(self, padded: torch.Tensor) -> torch.Tensor:
        """Frames of ``padded`` (its first ``context`` samples are the history the first frame reads)."""
        if self.policy.frontend_dft == "matmul":
            return matmul_dft_features(self, padded)
        batch, channels, _ = padded.shape
        frames = padded.unfold(-1, self.window, self.hop) * self.hann  # (batch, channels, frames, window)
        spectrum = torch.view_as_real(torch.fft.rfft(frames, dim=-1))
        power = spectrum.square().sum(dim=-1)  # (batch, channels, frames, bins)
        mel = torch.matmul(power, self.filterbank)  # (batch, channels, frames, mels)
        logmel = torch.log(mel + LOG_FLOOR).transpose(-1, -2).reshape(batch, channels * self.mels, -1)
        return self.norm(logmel)

    def stream(self, batch: int = 1) -> FrontendStream:
        return FrontendStream(self, batch)


def _dft_tables(window: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and -sin of 2 pi n k / N (n < N, k <= N/2) in ``like``'s dtype; n k is reduced modulo N in integers
    and the angles are taken in float64, so the tables are exact to float32 rounding."""
    turns = torch.remainder(torch.outer(torch.arange(window), torch.arange(window // 2 + 1)), window)
    angles = turns.to(torch.float64) * (2.0 * math.pi / window)
    return torch.cos(angles).to(like), torch.sin(angles).neg().to(like)


def matmul_dft_features(frontend: LogMelFrontend, padded: torch.Tensor) -> torch.Tensor:
    """:meth:`LogMelFrontend.features` with the per-frame real DFT as two matmuls instead of ``rfft``.

    The same steps in the same order otherwise (frames, Hann window, power, mel filterbank, log, norm);
    the power of bin k is (sum_n x_n cos)^2 + (sum_n x_n sin)^2, the squared magnitude of the DFT.
    """
    batch, channels, _ = padded.shape
    frames = padded.unfold(-1, frontend.window, frontend.hop) * frontend.hann
    cos, sin = _dft_tables(frontend.window, frames)
    power = torch.matmul(frames, cos).square() + torch.matmul(frames, sin).square()
    mel = torch.matmul(power, frontend.filterbank)
    logmel = torch.log(mel + LOG_FLOOR).transpose(-1, -2).reshape(batch, channels * frontend.mels, -1)
    return frontend.norm(logmel)


class FrontendStream:
    """Chunked features: carries the last ``window - hop`` samples; chunks must be multiples of ``hop``."""

    def __init__(self, frontend: LogMelFrontend, batch: int = 1) -> None:
        self.frontend = frontend
        self.batch = batch
        self.reset()

    def reset(self) -> None:
        hann = self.frontend.hann
        self.history = torch.zeros(
            self.batch, self.frontend.channels, self.frontend.context, dtype=hann.dtype, device=hann.device
        )

    def __call__(self, chunk: torch.Tensor) -> torch.Tensor:
        if chunk.shape[-1] % self.frontend.hop:
            raise CentaurusConfigError(
                f"chunk: got length {chunk.shape[-1]}; allowed: a multiple of the frontend's hop {self.frontend.hop}"
            )
        padded = torch.cat([self.history.to(chunk.dtype), chunk], dim=-1)
        self.history = padded[..., padded.shape[-1] - self.frontend.context :]
        return self.frontend.features(padded)
