"""The CTC speech-recognition network, described once: its layout, its module and its spec rules.

SSM stages downsampling raw audio (or log-mel frames) to a 25-100 Hz frame rate, then a 1x1 projection
to the vocabulary plus the CTC blank (index 0). Registered as task ``asr``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from centaurus.networks._blocks import Layout, conv1x1
from centaurus.networks._parts import NetworkStream, Trunk
from centaurus.networks.layout import LayoutWalker
from centaurus.networks.protocols import ArchitectureLike, StageLike
from centaurus.networks.registry import NetworkDefinition, register_network

FRAME_RATE: tuple[float, float] = (25.0, 100.0)
"""The frame rate (Hz) a CTC recogniser's output may have: slower misses short phones, faster wastes compute."""


def ctc_layout(walker: LayoutWalker, arch: ArchitectureLike, stages: Sequence[StageLike], length: int) -> None:
    """The trunk, then a 1x1 projection to ``output.size + 1`` channels per frame (the CTC blank is added)."""
    source, frames = walker.trunk("trunk.", arch, stages, length)
    walker.add("head", "conv1x1", frames, stages[-1].channels, arch.output.size + 1, (source,))


class SpeechRecognizer(nn.Module):
    """SSM stages downsampling raw audio to a 25-100 Hz frame rate, then a 1x1 projection to the
    vocabulary plus the CTC blank (index 0): ``(b, c, L) -> (b, vocabulary + 1, L / total_stride)`` logits.

    Built from a :func:`ctc_layout` (:func:`centaurus.networks.build`)."""

    def __init__(self, layout: Layout, total_stride: int) -> None:
        super().__init__()
        self.trunk = Trunk(layout)
        self.head = conv1x1(layout["head"])
        self.total_stride = total_stride

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(audio))

    def stream(self, batch: int = 1) -> NetworkStream:
        return NetworkStream(self, batch)

    def _stream_chunk(self, chunk: torch.Tensor, stream: NetworkStream) -> torch.Tensor:
        return self.head(self.trunk(chunk, stream.streams))


NETWORK = register_network(
    NetworkDefinition(
        name="asr",
        network=SpeechRecognizer,
        layout=ctc_layout,
        accepts_frontend=True,
        frame_rate=FRAME_RATE,
    )
)
