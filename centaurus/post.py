"""Normalisation and activation applied after an SSM layer, kept out of the contraction.

Both act per time step (a norm over channels, an elementwise activation), so a network that uses
them still streams exactly.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from centaurus.errors import CentaurusConfigError

Norm = Literal["layer", "batch", "none"]
Activation = Literal["gelu", "relu", "silu", "tanh", "none"]
NORMS: tuple[Norm, ...] = ("layer", "batch", "none")
ACTIVATIONS: tuple[Activation, ...] = ("gelu", "relu", "silu", "tanh", "none")

_ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "gelu": nn.GELU,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "none": nn.Identity,
}


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of ``(batch, channels, length)`` inputs, per time step."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class PostLayer(nn.Module):
    """``activation(norm(x))`` on ``(batch, channels, length)``."""

    def __init__(self, channels: int, norm: Norm = "layer", activation: Activation = "gelu") -> None:
        super().__init__()
        if norm not in NORMS:
            raise CentaurusConfigError(f"norm: got {norm!r}; allowed: {', '.join(NORMS)}")
        if activation not in ACTIVATIONS:
            raise CentaurusConfigError(f"activation: got {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
        if norm == "layer":
            self.norm: nn.Module = ChannelLayerNorm(channels)
        elif norm == "batch":
            self.norm = nn.BatchNorm1d(channels)
        else:
            self.norm = nn.Identity()
        self.activation = _ACTIVATION_MODULES[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.norm(x))
