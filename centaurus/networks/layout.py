"""The layer-by-layer layout of a task network, from its spec alone (no modules, no tensors).

The cost model scores thousands of architectures a second, so it cannot instantiate networks.
This module walks an architecture and lists every operation with its sizes at the given batch and
length; it is the one description of a network: :func:`centaurus.networks.build` instantiates these
ops (each module from its op, named by the op), so the network the cost model prices and the module
that trains cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from centaurus.errors import CentaurusConfigError
from centaurus.modes import EXPRESSIONS, layer_sizes
from centaurus.networks.protocols import ArchitectureLike, StageLike
from centaurus.networks.registry import get_network

OpKind = Literal[
    "frontend", "ssm", "conv1x1", "downsample", "upsample", "norm", "activation", "add", "pool", "head_norm", "linear"
]


@dataclass(frozen=True)
class LayerOp:
    """One operation of a network at a given batch and input length of that operation.

    ``length`` is the time length the op sees at its input (``upsample`` produces
    ``length * stride``); ``variant`` is the block type (ssm), norm kind or activation kind;
    ``inputs`` names the ops whose outputs it reads (``"input"`` for the network input), so that
    a consumer of the layout can follow the data flow (e.g. to count shared storage once).
    """

    name: str
    kind: OpKind
    batch: int
    length: int
    in_channels: int
    out_channels: int
    variant: str = ""
    stride: int = 1
    sizes: tuple[tuple[str, int], ...] = ()
    pole_count: int = 0
    dt_count: int = 0
    weight_count: int = 0
    input_requires_grad: bool = True
    inputs: tuple[str, ...] = ()
    options: tuple[tuple[str, int], ...] = ()
    """The rest of what :func:`centaurus.networks.build` needs to instantiate the op's module: an SSM layer's
    ``num_states`` (and ``groups``, ``bottleneck`` or ``state_blocks`` where its block type has them), a
    frontend's ``sample_rate``."""

    @property
    def size_map(self) -> dict[str, int]:
        return dict(self.sizes)

    @property
    def option_map(self) -> dict[str, int]:
        return dict(self.options)


def _product(sizes: dict[str, int], indices: str) -> int:
    total = 1
    for index in indices:
        total *= sizes[index]
    return total


class LayoutWalker:
    """Collects the ops of one network in order; a task's layout function (``NetworkDefinition.layout``)
    appends its ops through :meth:`add`, and the shared pieces through :meth:`trunk`, :meth:`features`
    and :meth:`downsample`, so every task names and sizes its SSM blocks the same way."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.ops: list[LayerOp] = []

    def add(self, name: str, kind: OpKind, length: int, in_channels: int, out_channels: int,
            inputs: tuple[str, ...], **details: object) -> str:  # fmt: skip
        op = LayerOp(name, kind, self.batch, length, in_channels, out_channels, inputs=inputs, **details)  # type: ignore[arg-type]
        self.ops.append(op)
        return name

    def ssm_block(self, name: str, stage: StageLike, in_channels: int, length: int, source: str) -> str:
        mode = stage.block
        expression = EXPRESSIONS[mode]  # type: ignore[index]
        sizes = layer_sizes(
            mode,  # type: ignore[arg-type]
            in_channels,
            stage.channels,
            stage.num_states,
            groups=stage.groups or 1,
            bottleneck=stage.bottleneck or 1,
        )
        out = self.add(
            f"{name}.ssm", "ssm", length, in_channels, stage.channels, (source,),
            variant=mode,
            sizes=tuple(sorted(sizes.items())),
            pole_count=_product(sizes, expression.pole_indices),
            dt_count=_product(sizes, expression.dt_indices),
            weight_count=sum(_product(sizes, op.indices) for op in expression.operands if op.role == "weight"),
            options=_ssm_options(stage),
        )  # fmt: skip
        if stage.norm != "none":
            out = self.add(f"{name}.post.norm", "norm", length, stage.channels, stage.channels, (out,),
                           variant=stage.norm)  # fmt: skip
        if stage.activation != "none":
            out = self.add(f"{name}.post.activation", "activation", length, stage.channels, stage.channels, (out,),
                           variant=stage.activation)  # fmt: skip
        if stage.residual:
            skip = source
            if in_channels != stage.channels:
                skip = self.add(f"{name}.skip", "conv1x1", length, in_channels, stage.channels, (source,))
            out = self.add(f"{name}.add", "add", length, stage.channels, stage.channels, (out, skip))
        return out

    def features(self, name: str, stage: StageLike, in_channels: int, length: int, source: str) -> str:
        """Append a stage's blocks; return the key of their output (the U-Net's skip)."""
        channels = in_channels
        for index in range(stage.depth):
            source = self.ssm_block(f"{name}.blocks.{index}", stage, channels, length, source)
            channels = stage.channels
        return source

    def downsample(self, name: str, stage: StageLike, length: int, source: str) -> tuple[str, int]:
        if stage.stride == 1:
            return source, length
        out = self.add(f"{name}.downsample", "downsample", length, stage.channels, stage.channels, (source,),
                       stride=stage.stride)  # fmt: skip
        return out, length // stage.stride

    def trunk(self, prefix: str, arch: ArchitectureLike, stages: Sequence[StageLike], length: int) -> tuple[str, int]:
        """Append an optional frontend, a 1x1 stem and the stages (``{prefix}frontend``, ``{prefix}stem``,
        ``{prefix}stages.{i}...``); return the key of the last output and its length in frames."""
        source, in_channels = "input", arch.input.channels
        frontend = getattr(arch.input, "frontend", None)
        if frontend is not None:  # no parameters and a leaf input: forward only, nothing saved
            source = self.add(
                f"{prefix}frontend", "frontend", length, in_channels, in_channels * frontend.mels, (source,),
                variant=frontend.kind, stride=frontend.hop, input_requires_grad=False,
                sizes=(("bins", frontend.window // 2 + 1), ("mels", frontend.mels), ("window", frontend.window)),
                options=(("sample_rate", arch.input.sample_rate),),
            )  # fmt: skip
            length, in_channels = length // frontend.hop, in_channels * frontend.mels
        source = self.add(f"{prefix}stem", "conv1x1", length, in_channels, stages[0].channels, (source,),
                          input_requires_grad=False)  # fmt: skip
        channels = stages[0].channels
        for index, stage in enumerate(stages):
            source = self.features(f"{prefix}stages.{index}", stage, channels, length, source)
            source, length = self.downsample(f"{prefix}stages.{index}", stage, length, source)
            channels = stage.channels
        return source, length


def _ssm_options(stage: StageLike) -> tuple[tuple[str, int], ...]:
    """An SSM layer's constructor arguments beyond its channels and block type."""
    options: list[tuple[str, int | None]] = [("num_states", stage.num_states)]
    if stage.block == "group":
        options.append(("groups", stage.groups))
    elif stage.block == "neck":
        options.append(("bottleneck", stage.bottleneck))
    elif stage.block == "s5" and stage.state_blocks is not None:
        options.append(("state_blocks", stage.state_blocks))
    # A validated spec sets the size its block type needs (groups for group, bottleneck for neck).
    return tuple((name, value) for name, value in options if value is not None)


def input_stride(arch: ArchitectureLike) -> int:
    """Samples per frame the first stage reads: the frontend's hop, 1 on raw audio."""
    frontend = getattr(arch.input, "frontend", None)
    return 1 if frontend is None else frontend.hop


def total_stride(arch: ArchitectureLike) -> int:
    """Input samples per output frame: the frontend's hop times the stage strides."""
    return input_stride(arch) * math.prod(stage.stride for stage in arch.stages)


def network_layout(arch: ArchitectureLike, batch: int, length: int | None = None) -> tuple[LayerOp, ...]:
    """Every operation of ``build(arch)`` for inputs of shape ``(batch, channels, length)``, in order.

    ``length`` defaults to the spec's nominal input length; it must be a multiple of the total stride.
    The ops after the shared checks are the task's (``NetworkDefinition.layout`` of :func:`get_network`).
    """
    stages = list(arch.stages)
    length = arch.input.length if length is None else length
    stride = total_stride(arch)
    if length % stride:
        raise CentaurusConfigError(f"length: got {length}; allowed: a multiple of the total stride {stride}")
    definition = get_network(arch.task)
    walker = LayoutWalker(batch)
    definition.layout(walker, arch, stages, length)
    return tuple(walker.ops)
