"""SSM blocks and stages: the pieces every task network is assembled from.

A block is one SSM layer, then normalisation and activation, plus an optional residual path (a
1x1 projection when the channel count changes). A stage repeats blocks ``depth`` times and then
downsamples time by ``stride`` with a kernel=stride convolution. Everything except the SSM layer
acts per time step (or per non-overlapping window of ``stride`` samples), so a stage streams
exactly whenever chunk lengths are multiples of the strides below it.
"""

from __future__ import annotations

import torch
from torch import nn

from centaurus.layer import SSMLayer
from centaurus.networks.frontend import FrontendStream, LogMelFrontend
from centaurus.networks.protocols import StageLike
from centaurus.post import PostLayer
from centaurus.streaming import SSMStream

Streams = dict[nn.Module, SSMStream | FrontendStream]
"""The state-carrying streams of one network, by module: every SSM layer's, and its frontend's."""


class SSMBlock(nn.Module):
    """``post(ssm(x)) + skip(x)``, streaming through ``streams`` when given."""

    def __init__(self, in_channels: int, stage: StageLike) -> None:
        super().__init__()
        self.ssm = SSMLayer(
            in_channels,
            stage.channels,
            stage.num_states,
            stage.block,  # type: ignore[arg-type]
            groups=stage.groups if stage.block == "group" else None,
            bottleneck=stage.bottleneck if stage.block == "neck" else None,
            state_blocks=stage.state_blocks if stage.block == "s5" else None,
        )
        self.post = PostLayer(stage.channels, stage.norm, stage.activation)  # type: ignore[arg-type]
        self.skip: nn.Module | None = None
        if stage.residual:
            self.skip = nn.Identity() if in_channels == stage.channels else nn.Conv1d(in_channels, stage.channels, 1)

    def forward(self, x: torch.Tensor, streams: Streams | None = None) -> torch.Tensor:
        mixed = self.ssm(x) if streams is None else streams[self.ssm](x)  # type: ignore[arg-type]
        out = self.post(mixed)
        return out if self.skip is None else out + self.skip(x)


class Stage(nn.Module):
    """``depth`` SSM blocks, then downsampling by ``stride`` (a kernel=stride convolution)."""

    def __init__(self, in_channels: int, stage: StageLike, downsample: bool = True) -> None:
        super().__init__()
        blocks = [SSMBlock(in_channels, stage)]
        blocks += [SSMBlock(stage.channels, stage) for _ in range(stage.depth - 1)]
        self.blocks = nn.ModuleList(blocks)
        self.stride = stage.stride
        self.downsample: nn.Module | None = None
        if downsample and stage.stride > 1:
            self.downsample = nn.Conv1d(stage.channels, stage.channels, stage.stride, stride=stage.stride)

    def features(self, x: torch.Tensor, streams: Streams | None = None) -> torch.Tensor:
        """The stage's output at its input rate (before downsampling): the U-Net's skip."""
        for block in self.blocks:
            x = block(x, streams)
        return x

    def forward(self, x: torch.Tensor, streams: Streams | None = None) -> torch.Tensor:
        x = self.features(x, streams)
        return x if self.downsample is None else self.downsample(x)


def ssm_layers(module: nn.Module) -> list[SSMLayer]:
    return [child for child in module.modules() if isinstance(child, SSMLayer)]


def open_streams(module: nn.Module, batch: int) -> Streams:
    """A fresh state-carrying stream for every SSM layer (and feature frontend) of ``module``."""
    streams: Streams = {child: child.stream(batch) for child in module.modules() if isinstance(child, LogMelFrontend)}
    streams.update({layer: layer.stream(batch) for layer in ssm_layers(module)})
    return streams
