"""What the network builders read from an architecture spec.

``centaurus`` must not depend on ``search_spaces`` (dependencies point one way), so the builders
accept any object with these attributes; ``search_spaces.Architecture`` is the canonical one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class StageLike(Protocol):
    block: str
    channels: int
    num_states: int
    groups: int | None
    state_blocks: int | None
    depth: int
    stride: int
    residual: bool
    norm: str
    activation: str

    @property
    def bottleneck(self) -> int | None: ...


class FrontendLike(Protocol):
    kind: str
    mels: int
    window: int
    hop: int


class InputLike(Protocol):
    """``frontend`` is optional: builders read it with ``getattr(input, "frontend", None)``."""

    sample_rate: int
    channels: int
    length: int


class OutputLike(Protocol):
    size: int


class ArchitectureLike(Protocol):
    task: str
    input: InputLike
    output: OutputLike
    stages: Sequence[StageLike]
