"""What every task network is assembled from besides blocks and stages: the trunk and the stream.

The task networks (:mod:`centaurus.networks._kws`, ``.denoise``, ``.asr``, or a new task's) are fully
state-space: the only temporal mixing is the SSM layers (1x1 channel mixers and kernel=stride
resampling are per time step or per window). Each has ``stream(batch)`` returning a
:class:`NetworkStream` whose chunked output equals the full-sequence output for chunk lengths that
are multiples of the network's total stride. Every module is built from the network's layout
(:mod:`centaurus.networks.layout`), named as its op: the networks only say how data flows.
"""

from __future__ import annotations

import torch
from torch import nn

from centaurus.networks._blocks import Layout, Stage, Streams, conv1x1, open_streams
from centaurus.networks.frontend import LogMelFrontend
from centaurus.networks.layout import LayerOp


def count_indexed(layout: Layout, template: str) -> int:
    """How many ``template.format(index)`` names the layout has, from index 0 on."""
    count = 0
    while template.format(count) in layout:
        count += 1
    return count


def _frontend(op: LayerOp) -> LogMelFrontend:
    sizes = op.size_map
    return LogMelFrontend(op.in_channels, op.option_map["sample_rate"], sizes["mels"], sizes["window"], op.stride)


class Trunk(nn.Module):
    """An optional feature frontend, a 1x1 stem to the first stage's channels, then the stages in order
    (the layout's ``trunk.*`` ops)."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        frontend = layout.get("trunk.frontend")
        self.frontend = None if frontend is None else _frontend(frontend)
        self.stem = conv1x1(layout["trunk.stem"])
        count = count_indexed(layout, "trunk.stages.{}.blocks.0.ssm")
        self.stages = nn.ModuleList([Stage(layout, f"trunk.stages.{index}") for index in range(count)])
        self.out_channels = layout[f"trunk.stages.{count - 1}.blocks.0.ssm"].out_channels  # every block's

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


class NetworkStream:
    """Chunked inference through a whole task network (inference only: call ``model.eval()`` first).

    Every SSM layer carries its complex state between chunks (and a feature frontend its last
    ``window - hop`` samples); chunk lengths must be multiples of the network's total stride so that
    frames and resampling windows never straddle two chunks.
    """

    def __init__(self, network: nn.Module, batch: int = 1) -> None:
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
        stride = int(self.network.total_stride)  # type: ignore[arg-type]
        if chunk.shape[-1] % stride:
            from centaurus.errors import CentaurusConfigError

            raise CentaurusConfigError(
                f"chunk: got length {chunk.shape[-1]}; allowed: a multiple of the total stride {stride}"
            )
        return self.network._stream_chunk(chunk, self)  # type: ignore[operator]
