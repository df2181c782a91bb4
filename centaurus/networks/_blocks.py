"""SSM blocks and stages: the pieces every task network is assembled from.

A block is one SSM layer, then normalisation and activation, plus an optional residual path (a
1x1 projection when the channel count changes). A stage repeats blocks ``depth`` times and then
downsamples time by ``stride`` with a kernel=stride convolution. Everything except the SSM layer
acts per time step (or per non-overlapping window of ``stride`` samples), so a stage streams
exactly whenever chunk lengths are multiples of the strides below it.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from centaurus.layer import SSMLayer
from centaurus.networks.frontend import FrontendStream, LogMelFrontend
from centaurus.networks.layout import LayerOp
from centaurus.post import PostLayer
from centaurus.streaming import SSMStream

Streams = dict[nn.Module, SSMStream | FrontendStream]
"""The state-carrying streams of one network, by module: every SSM layer's, and its frontend's."""


Layout = Mapping[str, LayerOp]
"""A network's layout (:func:`centaurus.networks.layout.network_layout`) by op name: what modules are built from."""


def ssm_layer(op: LayerOp) -> SSMLayer:
    """The SSM layer an ``ssm`` op describes."""
    options = op.option_map
    return SSMLayer(
        op.in_channels,
        op.out_channels,
        options["num_states"],
        op.variant,  # type: ignore[arg-type]
        groups=options.get("groups"),
        bottleneck=options.get("bottleneck"),
        state_blocks=options.get("state_blocks"),
    )


def conv1x1(op: LayerOp) -> nn.Conv1d:
    """The 1x1 convolution a ``conv1x1`` op describes (a per-time-step channel mixer)."""
    return nn.Conv1d(op.in_channels, op.out_channels, 1)


class SSMBlock(nn.Module):
    """``post(ssm(x)) + skip(x)``, streaming through ``streams`` when given; built from the layout's ops under
    ``name`` (``.ssm``, ``.post.norm``, ``.post.activation``, ``.skip`` and ``.add``)."""

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__()
        ssm = layout[f"{name}.ssm"]
        self.ssm = ssm_layer(ssm)
        norm, activation = layout.get(f"{name}.post.norm"), layout.get(f"{name}.post.activation")
        self.post = PostLayer(
            ssm.out_channels,
            norm.variant if norm is not None else "none",  # type: ignore[arg-type]
            activation.variant if activation is not None else "none",  # type: ignore[arg-type]
        )
        self.skip: nn.Module | None = None
        if f"{name}.add" in layout:
            skip = layout.get(f"{name}.skip")
            self.skip = nn.Identity() if skip is None else conv1x1(skip)

    def forward(self, x: torch.Tensor, streams: Streams | None = None) -> torch.Tensor:
        mixed = self.ssm(x) if streams is None else streams[self.ssm](x)
        out = self.post(mixed)
        return out if self.skip is None else out + self.skip(x)


class Stage(nn.Module):
    """``depth`` SSM blocks, then downsampling by ``stride`` (a kernel=stride convolution) where the layout has a
    ``downsample`` op; built from the layout's ops under ``name``."""

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__()
        depth = 0
        while f"{name}.blocks.{depth}.ssm" in layout:
            depth += 1
        self.blocks = nn.ModuleList([SSMBlock(layout, f"{name}.blocks.{index}") for index in range(depth)])
        downsample = layout.get(f"{name}.downsample")
        self.stride = 1 if downsample is None else downsample.stride
        self.downsample: nn.Module | None = None
        if downsample is not None:
            channels = downsample.out_channels
            self.downsample = nn.Conv1d(downsample.in_channels, channels, downsample.stride, stride=downsample.stride)

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
