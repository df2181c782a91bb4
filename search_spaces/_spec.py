"""Architecture specs: the plain, serialisable description of one Centaurus network.

A spec is what a search samples, what the cost model scores, what ``centaurus.networks.build``
turns into a module and what a study stores per trial, so it is pure data (no torch objects),
immutable, validated on construction (an invalid :class:`Architecture` cannot exist) and
round-trips exactly through dicts, JSON and YAML. Its :attr:`Architecture.id` is a content hash,
so equal specs share an id across processes and machines (useful for caching and deduplication).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from centaurus.networks.registry import frontend_tasks
from fieldspec import describe, is_int
from search_spaces import _checks, _io
from search_spaces.fields import FRONTEND_SETTINGS, INPUT_SETTINGS, MAX_BOTTLENECK_RATIO, OUTPUT_SETTINGS


@dataclass(frozen=True)
class FrontendSpec:
    """A fixed (untrained) feature front end between the waveform and the first stage.

    ``logmel``: log mel energies of ``window``-sample Hann-windowed frames every ``hop`` samples
    (causal: the first frame ends at the first hop), ``mels`` bands between 0 Hz and Nyquist, then
    a per-band normalisation with running statistics. The network's stages then run at
    ``sample_rate / hop`` frames per second on ``mels`` channels (per input channel), which makes
    every step ``hop`` times shorter than on raw audio: the usual keyword-spotting input, and the
    one that learns within minutes on a CPU.
    """

    kind: str = "logmel"
    mels: int = 40
    window: int = 400
    hop: int = 160

    def __post_init__(self) -> None:
        for declared in FRONTEND_SETTINGS:
            _checks.check(declared, getattr(self, declared.name), f"input.frontend.{declared.name}")
        if self.hop > self.window:
            _checks.fail("input.frontend.hop", repr(self.hop), f"at most the window ({self.window} samples)")
        if self.mels > self.bins:
            _checks.fail(
                "input.frontend.mels", repr(self.mels), f"at most window // 2 + 1 = {self.bins} frequency bins"
            )

    @property
    def bins(self) -> int:
        """Frequency bins of one frame's spectrum (0 Hz to Nyquist)."""
        return self.window // 2 + 1

    def to_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> FrontendSpec:
        values = _io.mapping(data, "input.frontend")
        _io.check_keys(values, _field_names(cls), ("kind",), "input.frontend")
        return cls(**values)

    def summary(self) -> str:
        return f"{self.kind}{self.mels}/{self.hop}"


@dataclass(frozen=True)
class InputSpec:
    """The audio a network reads: ``length`` is the nominal training length in samples.

    ``frontend`` (optional) turns the waveform into features before the first stage; without one
    the stages read raw audio.
    """

    sample_rate: int = 16000
    channels: int = 1
    length: int = 16000
    frontend: FrontendSpec | None = None

    def __post_init__(self) -> None:
        for declared in INPUT_SETTINGS:
            _checks.check(declared, getattr(self, declared.name), f"input.{declared.name}")
        if self.frontend is not None and not isinstance(self.frontend, FrontendSpec):
            _checks.fail("input.frontend", describe(self.frontend), "a FrontendSpec or None")

    @property
    def stride(self) -> int:
        """Samples per frame the first stage reads: the frontend's hop, 1 for raw audio."""
        return 1 if self.frontend is None else self.frontend.hop

    def to_dict(self) -> dict[str, Any]:
        """The fields; ``frontend`` only when there is one (so raw-audio specs keep their ids)."""
        values: dict[str, Any] = {"sample_rate": self.sample_rate, "channels": self.channels, "length": self.length}
        if self.frontend is not None:
            values["frontend"] = self.frontend.to_dict()
        return values

    @classmethod
    def from_dict(cls, data: object) -> InputSpec:
        """Missing keys take their defaults (16 kHz mono, one second, raw audio)."""
        values = dict(_io.mapping(data, "input"))
        _io.check_keys(values, _field_names(cls), (), "input")
        if values.get("frontend") is not None:
            values["frontend"] = FrontendSpec.from_dict(values["frontend"])
        return cls(**values)


@dataclass(frozen=True)
class OutputSpec:
    """What the network's head produces.

    ``size`` is the number of classes for kws, the vocabulary size without the CTC blank for asr
    (the recogniser adds the blank itself) and the number of output audio channels for denoise.
    """

    size: int

    def __post_init__(self) -> None:
        for declared in OUTPUT_SETTINGS:
            _checks.check(declared, getattr(self, declared.name), f"output.{declared.name}")

    def to_dict(self) -> dict[str, int]:
        return {"size": self.size}

    @classmethod
    def from_dict(cls, data: object) -> OutputSpec:
        values = _io.mapping(data, "output")
        _io.check_keys(values, ("size",), ("size",), "output")
        return cls(**values)


@dataclass(frozen=True)
class Stage:
    """``depth`` SSM blocks of one type at one width, then downsampling of time by ``stride``.

    The block-specific fields are ``None`` unless their block uses them: ``groups`` (group),
    ``bottleneck_ratio`` (neck: r = ratio * channels state blocks) and ``state_blocks`` (s5,
    optional: the block-diagonal initialisation of its states). A stage is checked in the context
    of its :class:`Architecture` (its groups depend on the previous stage's channels), so the
    checks run there, with messages that name ``stages[i]``.
    """

    block: str
    channels: int
    num_states: int
    groups: int | None = None
    bottleneck_ratio: float | None = None
    state_blocks: int | None = None
    depth: int = 1
    stride: int = 1
    residual: bool = True
    norm: str = "layer"
    activation: str = "gelu"

    def __post_init__(self) -> None:
        # 1 and 1.0 are equal but serialise differently; store floats so that equal specs share an id.
        ratio = self.bottleneck_ratio
        if is_int(ratio):
            object.__setattr__(self, "bottleneck_ratio", float(ratio))  # type: ignore[arg-type]

    @property
    def bottleneck(self) -> int | None:
        """The neck's number of state blocks, ``max(1, round(bottleneck_ratio * channels))``; None for other blocks."""
        if self.block != "neck" or self.bottleneck_ratio is None:
            return None
        return max(1, round(self.bottleneck_ratio * self.channels))

    def to_dict(self) -> dict[str, Any]:
        """The stage's fields, leaving out the ``None`` ones (the block-specific fields of other blocks)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return {name: value for name, value in values.items() if value is not None}

    @classmethod
    def from_dict(cls, data: object, where: str = "stage") -> Stage:
        values = _io.mapping(data, where)
        _io.check_keys(values, STAGE_FIELDS, _REQUIRED_STAGE_FIELDS, where)
        return cls(**values)

    def summary(self) -> str:
        """``group g4 64 n32 x2 /2``: block, its parameter (g groups, r ratio or b state blocks), channels,
        states, then depth and stride when > 1."""
        parts = [self.block]
        if self.groups is not None:
            parts.append(f"g{self.groups}")
        if self.bottleneck_ratio is not None:
            parts.append(f"r{self.bottleneck_ratio:g}")
        if self.state_blocks is not None:
            parts.append(f"b{self.state_blocks}")
        parts += [str(self.channels), f"n{self.num_states}"]
        if self.depth > 1:
            parts.append(f"x{self.depth}")
        if self.stride > 1:
            parts.append(f"/{self.stride}")
        return " ".join(parts)


def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(cls))


STAGE_FIELDS: tuple[str, ...] = _field_names(Stage)
_REQUIRED_STAGE_FIELDS = ("block", "channels", "num_states")
_ARCHITECTURE_KEYS = ("task", "input", "output", "stages")


@dataclass(frozen=True)
class Architecture(_io.TextSerialisable):
    """A whole network: task, input, output and its stages in order (validated on construction).

    ``stages`` may be given as a list; it is stored as a tuple so that the spec stays hashable.
    """

    _WHAT = "architecture"  # names the document in parse errors

    task: str
    input: InputSpec
    output: OutputSpec
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        if isinstance(self.stages, list):
            object.__setattr__(self, "stages", tuple(self.stages))
        self.validate()

    # ------------------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise :class:`SpecError` for the first rule the spec breaks (every rule of the spec lives here)."""
        _checks.task(self.task)
        if not isinstance(self.input, InputSpec):
            _checks.fail("input", describe(self.input), "an InputSpec")
        if not isinstance(self.output, OutputSpec):
            _checks.fail("output", describe(self.output), "an OutputSpec")
        _checks.output_size(self.task, self.output.size)
        if not isinstance(self.stages, tuple) or not self.stages:
            _checks.fail("stages", repr(self.stages), "a non-empty tuple of Stage")
        previous: int | None = None
        for index, stage in enumerate(self.stages):
            where = f"stages[{index}]"
            if not isinstance(stage, Stage):
                _checks.fail(where, describe(stage), "a Stage")
            _validate_stage(stage, where, previous)
            previous = stage.channels
        check_frontend_task(self.task, self.input)
        strides = [stage.stride for stage in self.stages]
        _checks.total_stride(
            self.task, self.input.sample_rate, self.input.length, strides, "stages.stride", self.input.stride
        )
        last = len(self.stages) - 1
        _checks.bottleneck_last(
            self.task,
            self.stages[last].stride,
            last,
            "1 for the last stage of a {task} network (the U-Net bottleneck; the decoder mirrors the others)",
        )

    @property
    def total_stride(self) -> int:
        """Input samples per output frame: the frontend's hop (if any) times the stage strides."""
        return self.input.stride * math.prod(stage.stride for stage in self.stages)

    # ------------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "input": self.input.to_dict(),
            "output": self.output.to_dict(),
            "stages": [stage.to_dict() for stage in self.stages],
        }

    @classmethod
    def from_dict(cls, data: object) -> Architecture:
        """The inverse of :meth:`to_dict`; ``input`` and the optional stage fields may be left out."""
        values = _io.mapping(data, "architecture")
        _io.check_keys(values, _ARCHITECTURE_KEYS, ("task", "output", "stages"), "architecture")
        stages = values["stages"]
        if isinstance(stages, str) or not isinstance(stages, Sequence):
            _checks.fail("stages", describe(stages), "a list of stage mappings")
        return cls(
            task=values["task"],
            input=InputSpec.from_dict(values.get("input", {})),
            output=OutputSpec.from_dict(values["output"]),
            stages=tuple(Stage.from_dict(stage, f"stages[{index}]") for index, stage in enumerate(stages)),
        )

    # --------------------------------------------------------------------------- identity
    @property
    def id(self) -> str:
        """The first 12 hex digits of the sha256 of the canonical JSON (sorted keys): equal specs, equal ids."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def summary(self) -> str:
        """One line, e.g. ``kws | full 16 n16 /4 | group g4 64 n32 /2 | neck r0.25 128 n16 x2 | s5 256 n64``
        (``kws logmel40/160 | ...`` with a frontend)."""
        head = self.task if self.input.frontend is None else f"{self.task} {self.input.frontend.summary()}"
        return " | ".join([head, *(stage.summary() for stage in self.stages)])


def check_frontend_task(task: str, audio: InputSpec) -> None:
    """A feature frontend only where the network reads features and outputs no waveform."""
    if audio.frontend is not None and task not in frontend_tasks():
        _checks.fail(
            "input.frontend",
            f"{audio.frontend.summary()} for task {task!r}",
            f"none for {task}; a frontend suits " + ", ".join(frontend_tasks()),
        )


def _validate_stage(stage: Stage, where: str, previous: int | None) -> None:
    """The rules of one stage; ``previous`` is the previous stage's channels (None for stage 0)."""
    block = _checks.stage_field("block", stage.block, f"{where}.block")
    channels = _checks.stage_field("channels", stage.channels, f"{where}.channels")
    num_states = _checks.stage_field("num_states", stage.num_states, f"{where}.num_states")
    _check_groups(stage.groups, block, channels, previous, f"{where}.groups")
    _check_bottleneck_ratio(stage.bottleneck_ratio, block, f"{where}.bottleneck_ratio")
    _check_state_blocks(stage.state_blocks, block, num_states, f"{where}.state_blocks")
    _checks.stage_field("depth", stage.depth, f"{where}.depth")
    _checks.stage_field("stride", stage.stride, f"{where}.stride")
    _checks.stage_field("residual", stage.residual, f"{where}.residual")
    _checks.stage_field("norm", stage.norm, f"{where}.norm")
    _checks.stage_field("activation", stage.activation, f"{where}.activation")


def _check_groups(groups: object, block: str, channels: int, previous: int | None, where: str) -> None:
    """Groups split both the stage's input channels (the previous stage's, or its own after the stem) and its own."""
    if block != "group":
        if groups is not None:
            _checks.fail(where, f"{groups!r} for block {block!r}", "None unless block is 'group'")
        return
    if previous is None:
        context, allowed = f"channels={channels}", f"a divisor of channels={channels}"
    else:
        context = f"both channels={channels} and the previous stage's channels={previous}"
        allowed = f"a common divisor of {channels} and {previous}"
    if groups is None:
        _checks.fail(where, "None", f"{allowed} (block 'group' needs groups)")
    _checks.stage_field("groups", groups, where)
    received = channels if previous is None else previous
    if channels % groups or received % groups:  # type: ignore[operator]
        _checks.fail(where, f"{groups} which does not divide {context}", allowed)


def _check_bottleneck_ratio(ratio: object, block: str, where: str) -> None:
    if block != "neck":
        if ratio is not None:
            _checks.fail(where, f"{ratio!r} for block {block!r}", "None unless block is 'neck'")
        return
    if ratio is None:
        _checks.fail(where, "None", f"a number in (0, {MAX_BOTTLENECK_RATIO:g}] (block 'neck' needs it)")
    _checks.stage_field("bottleneck_ratio", ratio, where)


def _check_state_blocks(state_blocks: object, block: str, num_states: int, where: str) -> None:
    if state_blocks is None:
        return
    if block != "s5":
        _checks.fail(where, f"{state_blocks!r} for block {block!r}", "None unless block is 's5'")
    _checks.stage_field("state_blocks", state_blocks, where)
    if num_states % state_blocks:  # type: ignore[operator]
        _checks.fail(where, f"{state_blocks} which does not divide num_states={num_states}", "a divisor of num_states")
