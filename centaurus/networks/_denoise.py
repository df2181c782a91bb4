"""The denoising hourglass, described once: its layout, its module and its spec rules.

A waveform-to-waveform U-Net: the spec's stages are the encoder, its last stage (stride 1) the
bottleneck, and the decoder mirrors the other stages. Registered as task ``denoise``; it reads raw
audio only (its output must line up with the input samples, so no feature frontend).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from centaurus.networks._blocks import Layout, Stage, Streams, conv1x1
from centaurus.networks._parts import NetworkStream, count_indexed
from centaurus.networks.layout import LayoutWalker
from centaurus.networks.protocols import ArchitectureLike, StageLike
from centaurus.networks.registry import NetworkDefinition, register_network


def hourglass_layout(walker: LayoutWalker, arch: ArchitectureLike, stages: Sequence[StageLike], length: int) -> None:
    """Stem, encoder stages (each output a skip but the last), mirrored decoder with additive skips, 1x1 head,
    and an identity ``passthrough`` when the output has the input's channels (the network predicts a correction)."""
    source = walker.add("stem", "conv1x1", length, arch.input.channels, stages[0].channels, ("input",),
                        input_requires_grad=False)  # fmt: skip
    channels, skips = stages[0].channels, []
    for index, stage in enumerate(stages):
        source = walker.features(f"encoder.{index}", stage, channels, length, source)
        skips.append((source, length))
        source, length = walker.downsample(f"encoder.{index}", stage, length, source)
        channels = stage.channels
    skips.pop()  # the bottleneck's own output is not a skip
    for position, index in enumerate(range(len(stages) - 2, -1, -1)):
        stage, deeper = stages[index], stages[index + 1].channels
        if stage.stride > 1:
            source = walker.add(f"upsamplers.{position}", "upsample", length, deeper, stage.channels, (source,),
                                stride=stage.stride)  # fmt: skip
        else:
            source = walker.add(f"upsamplers.{position}", "conv1x1", length, deeper, stage.channels, (source,))
        skip, length = skips.pop()
        source = walker.add(f"decoder.{position}.skip_add", "add", length, stage.channels, stage.channels,
                            (source, skip))  # fmt: skip
        source = walker.features(f"decoder.{position}", stage, stage.channels, length, source)
    head = walker.add("head", "conv1x1", length, stages[0].channels, arch.output.size, (source,))
    if arch.input.channels == arch.output.size:
        walker.add("passthrough", "add", length, arch.output.size, arch.output.size, (head, "input"))


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
        count = count_indexed(layout, "encoder.{}.blocks.0.ssm")
        self.encoder = nn.ModuleList([Stage(layout, f"encoder.{index}") for index in range(count)])
        upsamplers: list[nn.Module] = []
        decoder: list[Stage] = []
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
            nn.init.zeros_(cast(torch.Tensor, self.head.bias))  # conv1x1 always has a bias
        self.total_stride = total_stride

    def _run(self, audio: torch.Tensor, streams: Streams | None) -> torch.Tensor:
        x = self.stem(audio)
        skips = []
        for stage in cast(list[Stage], self.encoder):
            features = stage.features(x, streams)
            skips.append(features)
            x = features if stage.downsample is None else stage.downsample(features)
        skips.pop()  # the bottleneck's own output is not a skip
        for upsample, stage in zip(self.upsamplers, cast(list[Stage], self.decoder), strict=True):
            x = stage.features(upsample(x) + skips.pop(), streams)
        correction = self.head(x)
        return audio + correction if self.passthrough else correction

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self._run(audio, None)

    def stream(self, batch: int = 1) -> NetworkStream:
        return NetworkStream(self, batch)

    def _stream_chunk(self, chunk: torch.Tensor, stream: NetworkStream) -> torch.Tensor:
        return self._run(chunk, stream.streams)


NETWORK = register_network(
    NetworkDefinition(
        name="denoise",
        network=DenoisingUNet,
        layout=hourglass_layout,
        bottleneck_last=True,
    )
)
