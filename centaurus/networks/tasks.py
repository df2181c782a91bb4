"""The three task networks: keyword spotting, denoising hourglass, CTC speech recogniser.

All are fully state-space: the only temporal mixing is the SSM layers (1x1 channel mixers and
kernel=stride resampling are per time step or per window). Each has ``stream(batch)`` returning a
:class:`NetworkStream` whose chunked output equals the full-sequence output for chunk lengths that
are multiples of the network's total stride. Every module is built from the network's layout
(:mod:`centaurus.networks.layout`), named as its op: the networks here only say how data flows.
"""

from __future__ import annotations

import torch
from torch import nn

from centaurus.networks.blocks import Layout, Stage, Streams, conv1x1, open_streams
from centaurus.networks.frontend import LogMelFrontend
from centaurus.networks.layout import LayerOp


def _count(layout: Layout, template: str) -> int:
    """How many ``template.format(index)`` names the layout has, from index 0 on."""
    count = 0
    while template.format(count) in layout:
        count += 1
    return count


def _frontend(op: LayerOp) -> LogMelFrontend:
    sizes = op.size_map
    return LogMelFrontend(op.in_channels, op.option_map["sample_rate"], sizes["mels"], sizes["window"], op.stride)


class _Trunk(nn.Module):
    """An optional feature frontend, a 1x1 stem to the first stage's channels, then the stages in order
    (the layout's ``trunk.*`` ops)."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        frontend = layout.get("trunk.frontend")
        self.frontend = None if frontend is None else _frontend(frontend)
        self.stem = conv1x1(layout["trunk.stem"])
        count = _count(layout, "trunk.stages.{}.blocks.0.ssm")
        self.stages = nn.ModuleList([Stage(layout, f"trunk.stages.{index}") for index in range(count)])
        self.out_channels = self.stages[-1].blocks[-1].ssm.out_channels

    @property
    def input_stride(self) -> int:
        """Samples per frame the stem reads: the frontend's hop, 1 on raw audio."""
        return 1 if self.frontend is None else self.frontend.hop

    def forward(self, x: torch.Tensor, streams: Streams | None = None) -> torch.Tensor:
        if self.frontend is not None:
            x = self.frontend(x) if streams is None else streams[self.frontend](x)
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x, streams)
        return x


class KeywordSpotter(nn.Module):
    """SSM stages with downsampling, temporal mean pooling and a small head: ``(b, c, L) -> (b, classes)``.

    Built from a kws layout (:func:`centaurus.networks.build`); ``total_stride`` is the layout's."""

    def __init__(self, layout: Layout, total_stride: int) -> None:
        super().__init__()
        self.trunk = _Trunk(layout)
        norm, linear = layout["head.0"], layout["head.1"]
        self.head = nn.Sequential(nn.LayerNorm(norm.in_channels), nn.Linear(linear.in_channels, linear.out_channels))
        self.total_stride = total_stride

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(audio).mean(dim=-1))

    def stream(self, batch: int = 1) -> NetworkStream:
        return NetworkStream(self, batch)

    def _stream_chunk(self, chunk: torch.Tensor, stream: NetworkStream) -> torch.Tensor:
        features = self.trunk(chunk, stream.streams)
        stream.pooled_sum = features.sum(dim=-1) + (stream.pooled_sum if stream.pooled_sum is not None else 0)
        stream.pooled_count += features.shape[-1]
        return self.head(stream.pooled_sum / stream.pooled_count)  # logits of everything heard so far


class SpeechRecognizer(nn.Module):
    """SSM stages downsampling raw audio to a 25-100 Hz frame rate, then a 1x1 projection to the
    vocabulary plus the CTC blank (index 0): ``(b, c, L) -> (b, vocabulary + 1, L / total_stride)`` logits.

    Built from an asr layout (:func:`centaurus.networks.build`)."""

    def __init__(self, layout: Layout, total_stride: int) -> None:
        super().__init__()
        self.trunk = _Trunk(layout)
        self.head = conv1x1(layout["head"])
        self.total_stride = total_stride

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(audio))

    def stream(self, batch: int = 1) -> NetworkStream:
        return NetworkStream(self, batch)

    def _stream_chunk(self, chunk: torch.Tensor, stream: NetworkStream) -> torch.Tensor:
        return self.head(self.trunk(chunk, stream.streams))


class DenoisingUNet(nn.Module):
    """A waveform-to-waveform hourglass.

    The spec's stages are the encoder; its last stage (stride 1) is the bottleneck. The decoder
    mirrors every other stage in reverse: upsampling by that stage's stride (kernel=stride
    transposed convolution), an additive skip from the encoder stage's output, then blocks of the
    same type. The output is the input plus a 1x1 projection (the network predicts a correction),
    initialised to zero so that an untrained denoiser is the identity, not a random filter.
    Built from a denoise layout (:func:`centaurus.networks.build`).
    """

    def __init__(self, layout: Layout, total_stride: int) -> None:
        super().__init__()
        self.stem = conv1x1(layout["stem"])
        count = _count(layout, "encoder.{}.blocks.0.ssm")
        self.encoder = nn.ModuleList([Stage(layout, f"encoder.{index}") for index in range(count)])
        upsamplers, decoder = [], []
        for position in range(count - 1):  # built in this order: up, decoder, up, decoder, ... (seeded weights)
            up = layout[f"upsamplers.{position}"]
            if up.kind == "upsample":
                upsamplers.append(nn.ConvTranspose1d(up.in_channels, up.out_channels, up.stride, stride=up.stride))
            else:
                upsamplers.append(conv1x1(up))
            decoder.append(Stage(layout, f"decoder.{position}"))
        self.upsamplers = nn.ModuleList(upsamplers)
        self.decoder = nn.ModuleList(decoder)
        self.head = conv1x1(layout["head"])
        self.passthrough = "passthrough" in layout
        if self.passthrough:  # start as the identity: training can only add a correction it has learned
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        self.total_stride = total_stride

    def _run(self, audio: torch.Tensor, streams: Streams | None) -> torch.Tensor:
        x = self.stem(audio)
        skips = []
        for stage in self.encoder:
            features = stage.features(x, streams)
            skips.append(features)
            x = features if stage.downsample is None else stage.downsample(features)
        skips.pop()  # the bottleneck's own output is not a skip
        for upsample, stage in zip(self.upsamplers, self.decoder, strict=True):
            x = stage.features(upsample(x) + skips.pop(), streams)
        correction = self.head(x)
        return audio + correction if self.passthrough else correction

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self._run(audio, None)

    def stream(self, batch: int = 1) -> NetworkStream:
        return NetworkStream(self, batch)

    def _stream_chunk(self, chunk: torch.Tensor, stream: NetworkStream) -> torch.Tensor:
        return self._run(chunk, stream.streams)


class NetworkStream:
    """Chunked inference through a whole task network (inference only: call ``model.eval()`` first).

    Every SSM layer carries its complex state between chunks (and a feature frontend its last
    ``window - hop`` samples); chunk lengths must be multiples of the network's total stride so that
    frames and resampling windows never straddle two chunks.
    """

    def __init__(self, network: KeywordSpotter | SpeechRecognizer | DenoisingUNet, batch: int = 1) -> None:
        self.network = network
        self.batch = batch
        self.streams = open_streams(network, batch)
        self.pooled_sum: torch.Tensor | None = None
        self.pooled_count = 0

    def reset(self) -> None:
        for stream in self.streams.values():
            stream.reset()
        self.pooled_sum = None
        self.pooled_count = 0

    @torch.no_grad()
    def __call__(self, chunk: torch.Tensor) -> torch.Tensor:
        stride = self.network.total_stride
        if chunk.shape[-1] % stride:
            from centaurus.errors import CentaurusConfigError

            raise CentaurusConfigError(
                f"chunk: got length {chunk.shape[-1]}; allowed: a multiple of the total stride {stride}"
            )
        return self.network._stream_chunk(chunk, self)
