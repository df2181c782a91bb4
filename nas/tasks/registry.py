"""One :class:`TaskDefinition` per task, registered once: what everything in ``nas`` asks about a task.

A task is defined in two places only, one per layer the dependency rule allows
(``nas`` -> ``search_spaces`` -> ``centaurus``):

* its network, in ``centaurus`` (:class:`centaurus.networks.NetworkDefinition`: layout, module, and the
  spec rules ``search_spaces`` checks), and
* everything else, here: the training task and its metrics (with the directions the study optimises),
  the synthetic corpus and its ``centaurus-nas data`` flags, the search spaces it brings, and what its
  outputs mean to an export (ONNX output name, streamed output, labels and how to decode them).

The built-in tasks register in :mod:`nas.tasks._kws`, :mod:`nas.tasks.denoise` and :mod:`nas.tasks._asr`
when ``nas.tasks`` is imported. The study config, the worker, ``centaurus-nas train`` and ``data``, the
report and the exporter ask :func:`get_task` and :func:`task_names`; none of them names a task.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from centaurus.networks import get_network, network_names
from centaurus.networks.registry import unknown_task_message
from nas.errors import TaskConfigError
from search_spaces import register_space, unregister_space

if TYPE_CHECKING:
    from nas.data.synth.summary import CorpusSummary
    from nas.tasks.base import Direction, Task
    from search_spaces import SearchSpace


@dataclass(frozen=True)
class CorpusDefinition:
    """The task's synthetic corpus: what ``generate_data`` in a study config and ``centaurus-nas data
    <task>`` produce.

    ``generate(out, config, *, workers, overwrite, progress)`` writes it from ``config``, an instance of
    the dataclass ``config`` (whose fields are the keys ``generate_data`` accepts; it must take ``seed``).
    ``arguments`` adds the command's flags beyond ``--out``, ``--seed``, ``--workers``, ``--overwrite``
    and ``--quiet``; ``fields`` turns the parsed flags back into config fields (only those given).
    """

    config: type[Any]
    generate: Callable[..., CorpusSummary]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    fields: Callable[[argparse.Namespace], dict[str, object]] | None = None


@dataclass(frozen=True)
class OutputDefinition:
    """What the network's output means outside training (exports, streaming, labels.json).

    ``labels`` are the output indices' names in order (for ``ctc`` decoding without the blank, which the
    export puts at index 0); ``label`` says what one label is ("word"), ``decoded`` what decoding gives
    ("the word heard"). ``decoding`` is ``argmax`` (one class per item) or ``ctc`` (greedy CTC per frame).
    """

    onnx_name: str
    per_chunk: str
    labels: tuple[str, ...] | None = None
    decoding: Literal["argmax", "ctc"] | None = None
    label: str = ""
    decoded: str = ""


@dataclass(frozen=True)
class TaskDefinition:
    """Everything ``nas`` needs to search, train, evaluate and export one task, under its name.

    ``network`` names the task's :class:`centaurus.networks.NetworkDefinition` (by default the task's own
    name). ``spaces`` are search spaces the task brings (name -> factory), registered with
    :func:`search_spaces.register_space` so that ``space: NAME`` in a study config finds them.
    """

    name: str
    task: type[Task]
    output: OutputDefinition
    corpus: CorpusDefinition | None = None
    spaces: Mapping[str, Callable[[], SearchSpace]] = field(default_factory=dict)
    network: str = ""

    @property
    def network_name(self) -> str:
        return self.network or self.name

    @property
    def metrics(self) -> dict[str, Direction]:
        """Every metric the task's evaluation returns, with the direction in which it improves."""
        return dict(self.task.metrics)

    @property
    def pooled(self) -> bool:
        """The output summarises everything heard so far (a stream's answer is its last chunk's output)."""
        return get_network(self.network_name).pooled


_TASKS: dict[str, TaskDefinition] = {}


def register_task(definition: TaskDefinition, *, replace: bool = False) -> TaskDefinition:
    """Register ``definition`` (and its spaces); refused when its network is not registered in
    ``centaurus``, its training task has another name, or the name is taken (unless ``replace``)."""
    if not isinstance(definition, TaskDefinition):
        raise TaskConfigError(f"task: got {type(definition).__name__}; allowed: a TaskDefinition")
    if definition.name in _TASKS and not replace:
        raise TaskConfigError(
            f"task.name: got {definition.name!r}, which is registered already; allowed: a new name (or replace=True)"
        )
    if definition.network_name not in network_names():
        raise TaskConfigError(
            f"task.network: got {definition.network_name!r}; allowed: a registered network"
            f" ({', '.join(network_names())}; centaurus.networks.register_network adds one)"
        )
    if definition.task.name != definition.name:
        raise TaskConfigError(
            f"task.task: got {definition.task.__name__} named {definition.task.name!r};"
            f" allowed: a Task class whose name is {definition.name!r}"
        )
    previous = _TASKS.get(definition.name)
    for space in previous.spaces if previous is not None else ():  # a replaced definition's spaces go with it
        unregister_space(space)
    for space, factory in definition.spaces.items():
        register_space(space, factory, replace=replace)
    _TASKS[definition.name] = definition
    return definition


def unregister_task(name: str) -> None:
    """Forget task ``name`` and its spaces (tests that register a toy task clean up with this)."""
    definition = _TASKS.pop(name, None)
    for space in definition.spaces if definition is not None else ():
        unregister_space(space)


def task_names() -> tuple[str, ...]:
    """Every registered task, in registration order (the built-ins: kws, denoise, asr)."""
    return tuple(_TASKS)


def get_task(name: object) -> TaskDefinition:
    """The definition of task ``name``; :class:`TaskConfigError` ``task: got 'kwz' (did you mean 'kws'?);
    allowed: kws, denoise, asr`` otherwise."""
    if not isinstance(name, str) or name not in _TASKS:
        raise TaskConfigError(unknown_task_message(name, task_names()))
    return _TASKS[name]
