"""Search spaces: per-stage choices from which valid :class:`Architecture` specs are sampled.

A space is valid by construction: :meth:`SearchSpace.validate` (run on construction) proves that
every combination of choices gives a valid architecture (every combination of strides, every
channels pair a group stage can meet, every number of states an s5 stage can have), so
:meth:`SearchSpace.sample` never fails or needs to reject. How conditional fields whose valid
values depend on other fields are drawn is described in ``search_spaces._options``.

Parameter names seen by Optuna: ``s<i>.<field>`` per stage (``s0.block``, ``s2.groups``), or the
bare field name for a field shared by the whole network (``norm``). Only searched fields (two or
more choices) are suggested, and a conditional field only when its block was drawn.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from fieldspec import describe
from search_spaces import _checks, _io, _options
from search_spaces._errors import SpecError
from search_spaces._spec import Architecture, InputSpec, OutputSpec, Stage, check_frontend_task
from search_spaces.choices import StageChoices

# Fields that may take one value for the whole network (the conditional ones may not: whether a
# stage uses them depends on its block, so "one value everywhere" would be ill-defined).
SHAREABLE_FIELDS: tuple[str, ...] = (
    "block",
    "channels",
    "num_states",
    "depth",
    "stride",
    "residual",
    "norm",
    "activation",
)
# enumerate() refuses larger spaces: beyond this, listing every architecture is not what anyone wants.
ENUMERATE_LIMIT = 100_000
_SPACE_KEYS = ("name", "task", "input", "output", "shared", "stages")


class CategoricalTrial(Protocol):
    """What :meth:`SearchSpace.sample` needs of a trial: Optuna's ``Trial``, ``FixedTrial`` or a stand-in."""

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


@dataclass(frozen=True)
class SearchSpace(_io.TextSerialisable):
    """Named choices for a task's networks: one :class:`StageChoices` per stage, plus shared fields.

    ``shared`` lists fields (from :data:`SHAREABLE_FIELDS`) that take one value for the whole
    network, drawn once; every stage must then list the same choices for them. It is stored in
    field order, so the order it is given in does not matter.
    """

    _WHAT = "space"  # names the document in parse errors

    name: str
    task: str
    input: InputSpec
    output: OutputSpec
    stages: tuple[StageChoices, ...]
    shared: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("stages", "shared"):
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        self.validate()
        object.__setattr__(self, "shared", tuple(f for f in SHAREABLE_FIELDS if f in self.shared))

    # ------------------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise :class:`SpecError` unless every combination of choices is a valid architecture."""
        if not isinstance(self.name, str) or not self.name:
            _checks.fail("name", repr(self.name), "a non-empty string")
        _checks.task(self.task)
        if not isinstance(self.input, InputSpec):
            _checks.fail("input", describe(self.input), "an InputSpec")
        if not isinstance(self.output, OutputSpec):
            _checks.fail("output", describe(self.output), "an OutputSpec")
        _checks.output_size(self.task, self.output.size)
        check_frontend_task(self.task, self.input)
        if not isinstance(self.stages, tuple) or not self.stages:
            _checks.fail("stages", repr(self.stages), "a non-empty tuple of StageChoices")
        for index, stage in enumerate(self.stages):
            if not isinstance(stage, StageChoices):
                _checks.fail(f"stages[{index}]", describe(stage), "a StageChoices")
            stage.validate(f"stages[{index}]")
        self._check_shared()
        for index in range(len(self.stages)):
            self._check_conditional_contexts(index)
        self._check_strides()

    def _check_shared(self) -> None:
        if not isinstance(self.shared, tuple):
            _checks.fail("shared", repr(self.shared), "a tuple (or list) of field names")
        for name in self.shared:
            if name not in SHAREABLE_FIELDS:
                _checks.fail("shared", repr(name), ", ".join(SHAREABLE_FIELDS))
            if self.shared.count(name) > 1:
                _checks.fail("shared", f"{name!r} twice", "each field at most once")
            first = getattr(self.stages[0], name)
            for index, stage in enumerate(self.stages[1:], start=1):
                if getattr(stage, name) != first:
                    _checks.fail(
                        f"stages[{index}].{name}",
                        f"{getattr(stage, name)!r}, which differs from stages[0].{name} {first!r}",
                        f"the same choices in every stage, since {name!r} is shared",
                    )

    def _check_conditional_contexts(self, index: int) -> None:
        """Every context a stage can meet must leave at least one valid groups / state_blocks value."""
        stage, where = self.stages[index], f"stages[{index}]"
        if "group" in stage.block:
            if index == 0 or "channels" in self.shared:
                pairs = [(c, c) for c in stage.channels]
            else:
                pairs = list(itertools.product(stage.channels, self.stages[index - 1].channels))
            for channels, previous in pairs:
                if not _options.valid_groups(stage.groups, channels, previous):
                    context = f"channels={channels}"
                    if index > 0:
                        context += f" and the previous stage's channels={previous}"
                    _checks.fail(
                        f"{where}.groups",
                        f"choices {stage.groups!r} of which none divides {context}",
                        "choices that include a common divisor for every channels pair the space can produce",
                    )
        if "s5" in stage.block:
            for num_states in stage.num_states:
                if not _options.valid_state_blocks(stage.state_blocks, num_states):
                    _checks.fail(
                        f"{where}.state_blocks",
                        f"choices {stage.state_blocks!r} of which none divides num_states={num_states}",
                        "choices that include None or a divisor of every num_states choice",
                    )

    def _check_strides(self) -> None:
        """Every reachable total stride must divide the input length (and give asr its 25-100 Hz frame rate)."""
        last = len(self.stages) - 1
        _checks.bottleneck_last(
            self.task,
            self.stages[last].stride,
            last,
            "only 1 for the last stage of a {task} space (the U-Net bottleneck)",
        )
        if "stride" in self.shared:
            combinations = [(stride,) * len(self.stages) for stride in self.stages[0].stride]
        else:
            by_total: dict[int, tuple[int, ...]] = {1: ()}  # one witness combination per reachable total
            for stage in self.stages:
                by_total = {t * s: (*strides, s) for t, strides in by_total.items() for s in stage.stride}
            combinations = list(by_total.values())
        for strides in combinations:
            where = "stages.stride (a combination of choices)"
            _checks.total_stride(
                self.task, self.input.sample_rate, self.input.length, strides, where, self.input.stride
            )

    # ----------------------------------------------------------------------------- drawing
    def sample(self, trial: CategoricalTrial) -> Architecture:
        """An architecture from Optuna's ``trial.suggest_categorical`` (replays exactly from ``trial.params``).

        Each parameter name always gets the same fixed choice list, as Optuna requires; a drawn
        ``groups`` or ``state_blocks`` that does not fit the drawn channels or states is replaced
        by the nearest valid choice (see ``search_spaces._options``), so the parameters may show a
        value the architecture does not use. The architecture is the record of what was built.
        """
        return self._draw(trial.suggest_categorical)

    def random(self, rng: random.Random) -> Architecture:
        """An architecture drawn like :meth:`sample` under Optuna's RandomSampler, from a seeded ``rng``."""
        return self._draw(lambda _name, choices: rng.choice(choices))

    def _draw(self, choose: _options.Choose) -> Architecture:
        shared: dict[str, Any] = {}
        for name in self.shared:
            values = getattr(self.stages[0], name)
            shared[name] = values[0] if len(values) == 1 else choose(name, values)
        stages: list[Stage] = []
        for index, choices in enumerate(self.stages):
            previous = stages[-1].channels if stages else None
            stages.append(_options.draw_stage(choices, shared, previous, index, choose))
        return self._architecture(stages)

    def _architecture(self, stages: Sequence[Stage]) -> Architecture:
        return Architecture(self.task, self.input, self.output, tuple(stages))

    def _shared_assignments(self) -> Iterator[dict[str, Any]]:
        names = self.shared
        for values in itertools.product(*(getattr(self.stages[0], name) for name in names)):
            yield dict(zip(names, values, strict=True))

    # ---------------------------------------------------------------------------- counting
    def size(self) -> int:
        """The exact number of distinct architectures the space can produce (without listing them)."""
        total = 0
        for shared in self._shared_assignments():
            partial: dict[int | None, int] = {None: 1}  # previous stage's channels -> count of stage prefixes
            for choices in self.stages:
                following: dict[int | None, int] = {}
                for previous, count in partial.items():
                    for channels, options in _options.count_by_channels(choices, shared, previous).items():
                        following[channels] = following.get(channels, 0) + count * options
                partial = following
            total += sum(partial.values())
        return total

    def enumerate(self, limit: int = ENUMERATE_LIMIT) -> Iterator[Architecture]:
        """Every distinct architecture once; refuses spaces larger than ``limit`` (checked before the first)."""
        size = self.size()
        if size > limit:
            raise SpecError(
                f"enumerate: got a space of {size} architectures; allowed: at most limit={limit}"
                " (pass a larger limit, or use sample() or random())"
            )
        return self._enumerate()

    def _enumerate(self) -> Iterator[Architecture]:
        for shared in self._shared_assignments():
            yield from self._extend((), shared, {})

    def _extend(
        self, prefix: tuple[Stage, ...], shared: dict[str, Any], cache: dict[tuple[int, int | None], list[Stage]]
    ) -> Iterator[Architecture]:
        """Every architecture starting with ``prefix``; ``cache`` keeps each stage's options per previous channels."""
        index = len(prefix)
        if index == len(self.stages):
            yield self._architecture(prefix)
            return
        previous = prefix[-1].channels if prefix else None
        key = (index, previous)
        if key not in cache:
            cache[key] = list(_options.stage_options(self.stages[index], shared, previous))
        for stage in cache[key]:
            yield from self._extend((*prefix, stage), shared, cache)

    # ------------------------------------------------------------------------------ variants
    def homogeneous(self, block: str, name: str | None = None) -> SearchSpace:
        """This space with every stage's block fixed to ``block`` (named ``<name>-<block>`` by default)."""
        stages = tuple(stage.homogeneous(block) for stage in self.stages)
        return replace(self, name=name or f"{self.name}-{block}", stages=stages)

    # ------------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "task": self.task,
            "input": self.input.to_dict(),
            "output": self.output.to_dict(),
        }
        if self.shared:
            data["shared"] = list(self.shared)
        data["stages"] = [stage.to_dict() for stage in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: object) -> SearchSpace:
        """Read the config form (see the module docs of ``search_spaces``); ``input`` and ``shared`` are optional."""
        values = _io.mapping(data, "space")
        _io.check_keys(values, _SPACE_KEYS, ("name", "task", "output", "stages"), "space")
        stages, shared = values["stages"], values.get("shared", ())
        if isinstance(stages, str) or not isinstance(stages, Sequence):
            _checks.fail("stages", describe(stages), "a list of stage mappings")
        if not stages:  # the constructor's own message speaks of tuples of StageChoices, not of what a file holds
            _checks.fail("stages", "[]", "a non-empty list of stage mappings (a network has at least one stage)")
        if isinstance(shared, str):
            shared = (shared,)
        elif not isinstance(shared, Sequence):
            _checks.fail("shared", repr(shared), "a list of field names")
        return cls(
            name=values["name"],
            task=values["task"],
            input=InputSpec.from_dict(values.get("input", {})),
            output=OutputSpec.from_dict(values["output"]),
            stages=tuple(StageChoices.from_dict(stage, f"stages[{index}]") for index, stage in enumerate(stages)),
            shared=tuple(shared),
        )
