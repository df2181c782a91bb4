"""The keyword-spotting network, described once: its layout, its module and its spec rules.

SSM stages (optionally after a log-mel frontend) with downsampling, temporal mean pooling and a small
head: ``(b, c, L) -> (b, classes)`` logits. Registered as task ``kws``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from centaurus.networks._blocks import Layout
from centaurus.networks._parts import NetworkStream, Trunk
from centaurus.networks.layout import LayoutWalker
from centaurus.networks.protocols import ArchitectureLike, StageLike
from centaurus.networks.registry import NetworkDefinition, register_network


def classifier_layout(walker: LayoutWalker, arch: ArchitectureLike, stages: Sequence[StageLike], length: int) -> None:
    """The trunk, a mean over time (``pool``), then a layer norm and a linear layer to ``output.size`` logits."""
    source, frames = walker.trunk("trunk.", arch, stages, length)
    channels = stages[-1].channels
    source = walker.add("pool", "pool", frames, channels, channels, (source,))
    source = walker.add("head.0", "head_norm", 1, channels, channels, (source,))
    walker.add("head.1", "linear", 1, channels, arch.output.size, (source,))


class KeywordSpotter(nn.Module):
    """SSM stages with downsampling, temporal mean pooling and a small head: ``(b, c, L) -> (b, classes)``.

    Built from a :func:`classifier_layout` (:func:`centaurus.networks.build`); ``total_stride`` is the layout's."""

    def __init__(self, layout: Layout, total_stride: int) -> None:
        super().__init__()
        self.trunk = Trunk(layout)
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


NETWORK = register_network(
    NetworkDefinition(
        name="kws",
        network=KeywordSpotter,
        layout=classifier_layout,
        accepts_frontend=True,
        min_outputs=2,  # a classifier needs two classes to decide anything
        pooled=True,
    )
)
