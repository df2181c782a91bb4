"""What the supernet reads of a search space, which spaces it can share, and its extreme paths.

``centaurus`` must not import ``search_spaces`` (dependencies point one way), so the supernet reads a
space through :class:`SpaceLike`, the attributes ``search_spaces.SearchSpace`` has; the architectures
it returns are the space's own (drawn by the space's ``sample``/``random``), so every path is a valid
``Architecture`` of the space by construction, never one assembled here.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from centaurus.errors import CentaurusConfigError
from centaurus.modes import EXPRESSIONS, MODES, layer_sizes
from centaurus.networks import network_names
from centaurus.networks.frontend import FRONTEND_KINDS
from centaurus.networks.protocols import ArchitectureLike
from centaurus.post import NORMS


class UnshareableSpaceError(CentaurusConfigError):
    """A search space whose architectures cannot be paths of one supernet; the message names the field and why."""


class StageChoicesLike(Protocol):
    """One stage's choices, read-only (``search_spaces.StageChoices`` is the canonical one)."""

    @property
    def block(self) -> tuple[str, ...]: ...

    @property
    def channels(self) -> tuple[int, ...]: ...

    @property
    def num_states(self) -> tuple[int, ...]: ...

    @property
    def groups(self) -> tuple[int, ...]: ...

    @property
    def bottleneck_ratio(self) -> tuple[float, ...]: ...

    @property
    def state_blocks(self) -> tuple[int | None, ...]: ...

    @property
    def depth(self) -> tuple[int, ...]: ...

    @property
    def stride(self) -> tuple[int, ...]: ...

    @property
    def residual(self) -> tuple[bool, ...]: ...

    @property
    def norm(self) -> tuple[str, ...]: ...

    @property
    def activation(self) -> tuple[str, ...]: ...


class SpaceLike(Protocol):
    """What the supernet reads of a search space (``search_spaces.SearchSpace`` is the canonical one)."""

    @property
    def name(self) -> str: ...

    @property
    def task(self) -> str: ...

    @property
    def input(self) -> Any: ...

    @property
    def output(self) -> Any: ...

    @property
    def stages(self) -> Sequence[StageChoicesLike]: ...

    @property
    def shared(self) -> tuple[str, ...]: ...

    def sample(self, trial: Any) -> ArchitectureLike: ...

    def random(self, rng: random.Random) -> ArchitectureLike: ...

    def to_dict(self) -> dict[str, Any]: ...


# Stage fields the supernet knows how to share. A field outside this set (a future choice) is refused
# by name rather than silently ignored: an ignored choice would make distinct architectures one path.
STAGE_FIELDS: tuple[str, ...] = (
    "block",
    "channels",
    "num_states",
    "groups",
    "bottleneck_ratio",
    "state_blocks",
    "depth",
    "stride",
    "residual",
    "norm",
    "activation",
)
KNOWN_STAGE_FIELDS: frozenset[str] = frozenset(STAGE_FIELDS)


@dataclass(frozen=True)
class StageBounds:
    """The largest sizes a stage can take over the whole space: what its candidates are allocated at.

    ``in_channels`` is the largest input of its first block (the previous stage's widest choice, or
    its own for the first stage, which reads the 1x1 stem); ``bottleneck`` the largest number of neck
    state blocks ``max(1, round(ratio * channels))`` over every ratio and channel choice.
    """

    modes: tuple[str, ...]
    in_channels: int
    channels: int
    num_states: int
    depth: int
    bottleneck: int
    strides: tuple[int, ...]
    norms: tuple[str, ...]
    residual: bool
    may_resize: bool
    """Whether a path's first block can read another width than it writes (then a residual needs a 1x1 skip)."""


def check_shareable(space: SpaceLike) -> None:
    """Raise :class:`UnshareableSpaceError` unless every architecture of ``space`` is a path of one supernet.

    Shareable: any choice of block, channels, states, groups, bottleneck ratio, state blocks (they
    only seed an initialisation, so all values share the same weights), depth, stride (one
    downsampling candidate per stride), residual, norm (one per block type and kind) and activation.
    Not shareable: anything that changes what the stem reads (several inputs or frontends: the
    features, and so the stem's weights, would differ per path), a task without a network, or a stage
    field the supernet does not know.
    """
    if space.task not in network_names():
        raise UnshareableSpaceError(f"task: got {space.task!r}; allowed: {', '.join(network_names())}")
    audio = space.input
    if isinstance(audio, (list, tuple)):
        raise UnshareableSpaceError(
            f"input: got {len(audio)} choices; allowed: one input per supernet, since the input's channels,"
            " rate and frontend fix what the shared stem reads"
        )
    frontend = getattr(audio, "frontend", None)
    if isinstance(frontend, (list, tuple)):
        raise UnshareableSpaceError(
            f"input.frontend: got {len(frontend)} choices; allowed: one frontend per supernet, since a frontend"
            " choice changes the input features (bands and frame rate) that every path's shared stem reads"
        )
    if frontend is not None and getattr(frontend, "kind", None) not in FRONTEND_KINDS:
        raise UnshareableSpaceError(
            f"input.frontend.kind: got {getattr(frontend, 'kind', None)!r}; allowed: {', '.join(FRONTEND_KINDS)}"
        )
    for index, stage in enumerate(space.stages):
        where = f"stages[{index}]"
        names: set[str] = (
            {field.name for field in dataclasses.fields(stage)} if dataclasses.is_dataclass(stage) else set()
        )
        for name in sorted(names - KNOWN_STAGE_FIELDS):
            raise UnshareableSpaceError(
                f"{where}.{name}: got a field the supernet does not know; allowed: "
                f"{', '.join(sorted(KNOWN_STAGE_FIELDS))} (an unknown choice would make distinct networks one path)"
            )
        for block in stage.block:
            if block not in MODES:
                raise UnshareableSpaceError(f"{where}.block: got {block!r}; allowed: {', '.join(MODES)}")
        for norm in stage.norm:
            if norm not in NORMS:
                raise UnshareableSpaceError(f"{where}.norm: got {norm!r}; allowed: {', '.join(NORMS)}")


def check_subspace(space: SpaceLike, supernet_space: SpaceLike) -> None:
    """Raise :class:`CentaurusConfigError` unless every architecture of ``space`` is a path of the supernet of
    ``supernet_space``: the same task, input and output, as many stages, and per stage and field no choice
    the supernet's space lacks.

    Per-field containment is enough because a path is checked field by field (:meth:`Supernet.check_path`)
    and the supernet's tensors are sized to the largest choice of its own space, so a choice it offers
    always fits. A homogeneous sub-space of a heterogeneous space passes; a wider or deeper space, or
    another task, does not: its architectures would read tensors the checkpoint never trained.
    """
    for field in ("task", "input", "output"):
        got, allowed = getattr(space, field), getattr(supernet_space, field)
        if got != allowed:
            raise CentaurusConfigError(f"{field}: got {got!r}; allowed: the supernet space's {allowed!r}")
    if len(space.stages) != len(supernet_space.stages):
        raise CentaurusConfigError(
            f"stages: got {len(space.stages)} stages; allowed: the supernet space's {len(supernet_space.stages)}"
        )
    for index, (ours, theirs) in enumerate(zip(space.stages, supernet_space.stages, strict=True)):
        for field in STAGE_FIELDS:
            offered = tuple(getattr(theirs, field, ()) or ())
            missing = [value for value in tuple(getattr(ours, field, ()) or ()) if value not in offered]
            if missing:
                raise CentaurusConfigError(
                    f"stages[{index}].{field}: got choices {missing!r} that the supernet's space does not offer;"
                    f" allowed: {offered!r}"
                )


def stage_bounds(space: SpaceLike) -> tuple[StageBounds, ...]:
    """Per stage, the sizes its candidates must have so that every path is a leading slice of them."""
    bounds: list[StageBounds] = []
    previous: int | None = None
    shared_channels = "channels" in space.shared
    for index, stage in enumerate(space.stages):
        before = space.stages[index - 1].channels if index else ()
        channels = max(stage.channels)
        ratios = stage.bottleneck_ratio if "neck" in stage.block else ()
        bottleneck = max((max(1, round(r * c)) for r in ratios for c in stage.channels), default=1)
        bounds.append(
            StageBounds(
                modes=tuple(mode for mode in MODES if mode in stage.block),
                in_channels=channels if previous is None else previous,
                channels=channels,
                num_states=max(stage.num_states),
                depth=max(stage.depth),
                bottleneck=bottleneck,
                strides=tuple(sorted(set(stage.stride))),
                norms=tuple(norm for norm in NORMS if norm in stage.norm and norm != "none"),
                residual=True in stage.residual,
                may_resize=not shared_channels and any(p != c for p in before for c in stage.channels),
            )
        )
        previous = channels
    return tuple(bounds)


def common_stride(space: SpaceLike) -> int:
    """The least common multiple of every path's total stride (frontend hop times the stage strides).

    Batches padded to a multiple of it can be read by every path of the supernet (a U-Net's skips need a
    length its strides divide); it divides the space's input length, since every path's stride does.
    """
    stages = list(space.stages)
    if "stride" in space.shared:
        totals = {math.prod(stride for _ in stages) for stride in stages[0].stride}
    else:
        totals = {1}
        for stage in stages:
            totals = {total * stride for total in totals for stride in stage.stride}
    frontend = getattr(space.input, "frontend", None)
    hop = 1 if frontend is None else frontend.hop
    return hop * math.lcm(*totals)


def weight_count(mode: str, in_channels: int, out_channels: int, states: int, groups: int, bottleneck: int) -> int:
    """Trainable numbers of one SSM layer (weights, poles and steps): how the extreme paths rank block types."""
    groups = groups if mode == "group" else 1
    sizes = layer_sizes(mode, in_channels, out_channels, states, groups=groups, bottleneck=bottleneck)  # type: ignore[arg-type]
    expression = EXPRESSIONS[mode]  # type: ignore[index]
    weights = sum(math.prod(sizes[i] for i in op.indices) for op in expression.operands if op.role == "weight")
    poles = math.prod(sizes[i] for i in expression.pole_indices)
    return weights + 2 * poles + math.prod(sizes[i] for i in expression.dt_indices)


class _Chooser:
    """A stand-in Optuna trial answering ``suggest_categorical`` by a rule, so that the space itself draws
    (and validates) the extreme architectures: they are then its own, with its shared fields honoured."""

    def __init__(self, choose: Callable[[str, Sequence[Any]], Any]) -> None:
        self._choose = choose

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._choose(name, choices)


def _stages_of(name: str, count: int) -> list[int]:
    """The stage indices a parameter name decides: ``s2.block`` one, a shared ``block`` all."""
    head, _, _ = name.partition(".")
    if head.startswith("s") and head[1:].isdigit() and "." in name:
        return [int(head[1:])]
    return list(range(count))


def extreme_architecture(space: SpaceLike, largest: bool, block: str | None = None) -> ArchitectureLike:
    """The space's largest (or smallest) path: widest (narrowest) channels, most (fewest) states, deepest
    (shallowest), fewest (most) groups, largest (smallest) bottleneck, finest (coarsest) stride, residual
    on (off) where allowed, and per stage the block type with the most (fewest) trainable numbers at those
    sizes. Norm, activation and state blocks take the space's first choice (they change no size). ``block``,
    when given, is taken wherever a stage offers it instead of the ranked block type (on a CPU, the largest
    path of a space with ``full`` everywhere can cost ten times a typical path's step)."""
    if block is not None and block not in MODES:
        raise CentaurusConfigError(f"block: got {block!r}; allowed: None or one of {', '.join(MODES)}")
    stages = list(space.stages)
    pick: Callable[[Sequence[Any]], Any] = max if largest else min

    def block_score(index: int, mode: str) -> int:
        stage = stages[index]
        channels = pick(stage.channels)
        previous = channels if index == 0 else pick(stages[index - 1].channels)
        groups = (min if largest else max)(stage.groups) if stage.groups else 1
        ratio = pick(stage.bottleneck_ratio) if stage.bottleneck_ratio else 1.0
        bottleneck = max(1, round(ratio * channels))
        return weight_count(mode, previous, channels, pick(stage.num_states), groups, bottleneck)

    def choose(name: str, choices: Sequence[Any]) -> Any:
        field = name.rpartition(".")[2]
        if field in ("channels", "num_states", "depth", "bottleneck_ratio"):
            return pick(choices)
        if field == "groups":
            return (min if largest else max)(choices)
        if field == "stride":
            return (min if largest else max)(choices)
        if field == "residual":
            return largest if largest in choices else choices[0]
        if field == "block":
            if block is not None and block in choices:
                return block
            indices = _stages_of(name, len(stages))
            scores = {mode: sum(block_score(i, mode) for i in indices) for mode in choices}
            best = pick(list(scores.values()))
            return next(mode for mode in MODES if mode in scores and scores[mode] == best)
        return choices[0]

    return space.sample(_Chooser(choose))
