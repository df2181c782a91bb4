"""What the network builders read from an architecture spec.

``centaurus`` must not depend on ``search_spaces`` (dependencies point one way), so the builders
accept any object with these (read-only) attributes; ``search_spaces.Architecture`` is the canonical one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class StageLike(Protocol):
    @property
    def block(self) -> str: ...

    @property
    def channels(self) -> int: ...

    @property
    def num_states(self) -> int: ...

    @property
    def groups(self) -> int | None: ...

    @property
    def state_blocks(self) -> int | None: ...

    @property
    def depth(self) -> int: ...

    @property
    def stride(self) -> int: ...

    @property
    def residual(self) -> bool: ...

    @property
    def norm(self) -> str: ...

    @property
    def activation(self) -> str: ...

    @property
    def bottleneck(self) -> int | None: ...


class FrontendLike(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def mels(self) -> int: ...

    @property
    def window(self) -> int: ...

    @property
    def hop(self) -> int: ...


class InputLike(Protocol):
    """``frontend`` is optional: builders read it with ``getattr(input, "frontend", None)``."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def length(self) -> int: ...


class OutputLike(Protocol):
    @property
    def size(self) -> int: ...


class ArchitectureLike(Protocol):
    @property
    def task(self) -> str: ...

    @property
    def input(self) -> InputLike: ...

    @property
    def output(self) -> OutputLike: ...

    @property
    def stages(self) -> Sequence[StageLike]: ...
