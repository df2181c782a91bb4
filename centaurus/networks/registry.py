"""The network side of a task, registered once: what ``build``, the layout and the spec checks ask.

A task (``kws``, ``denoise``, ``asr``, or one a user adds) is one :class:`NetworkDefinition` here and
one ``nas.tasks.TaskDefinition`` in ``nas`` (training, data, export), which names this one. The split
follows the dependency rule (``nas`` -> ``search_spaces`` -> ``centaurus``): the spec checks in
``search_spaces`` must know a task's network rules (may it read a frontend? how many outputs? which
frame rate?) without importing ``nas``, so those rules live with the network, in ``centaurus``.

Nothing else in ``centaurus`` or ``search_spaces`` names a task: they ask :func:`get_network`,
:func:`network_names` and :func:`frontend_tasks`. The built-in networks register themselves when
``centaurus.networks`` is imported (:mod:`centaurus.networks._kws`, ``.denoise``, ``.asr``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.networks.protocols import ArchitectureLike, StageLike

if TYPE_CHECKING:
    from centaurus.networks._blocks import Layout
    from centaurus.networks.layout import LayoutWalker

NetworkFactory = Callable[["Layout", int], nn.Module]
"""``factory(layout, total_stride)``: the module built from a layout (op name -> op) of this task."""

LayoutFunction = Callable[["LayoutWalker", ArchitectureLike, Sequence[StageLike], int], None]
"""``layout(walker, arch, stages, length)``: append every op of the task's network to ``walker``."""


@dataclass(frozen=True)
class NetworkDefinition:
    """Everything ``centaurus`` and ``search_spaces`` need to know about one task's network.

    ``layout`` describes the network op by op (what the cost model prices) and ``network`` builds the
    module from those ops, so the two cannot drift. The remaining fields are the spec rules that
    follow from the network's shape rather than from its training, checked by ``search_spaces`` for
    every spec and every space:

    * ``accepts_frontend``: a feature frontend may sit before the first stage (false where the output
      is a waveform that must line up with the input samples);
    * ``min_outputs``: the smallest ``output.size`` (a classifier needs two classes to decide anything);
    * ``frame_rate``: the output frame rate (Hz) the total stride must give, if any (CTC needs frames
      of about phone length);
    * ``bottleneck_last``: the last stage must have stride 1 (an hourglass whose decoder mirrors the
      other stages around that bottleneck);
    * ``pooled``: the output summarises everything heard so far, so a stream's answer is its last
      chunk's output rather than the chunks' outputs joined along time.
    """

    name: str
    network: NetworkFactory
    layout: LayoutFunction
    accepts_frontend: bool = False
    min_outputs: int = 1
    frame_rate: tuple[float, float] | None = None
    bottleneck_last: bool = False
    pooled: bool = False


_NETWORKS: dict[str, NetworkDefinition] = {}


def register_network(definition: NetworkDefinition, *, replace: bool = False) -> NetworkDefinition:
    """Make ``definition`` the network of task ``definition.name`` (refused if the name is taken, unless
    ``replace``: a second definition under one name is almost always a copy-paste slip)."""
    if not isinstance(definition, NetworkDefinition):
        raise CentaurusConfigError(f"network: got {type(definition).__name__}; allowed: a NetworkDefinition")
    if not definition.name or not isinstance(definition.name, str):
        raise CentaurusConfigError(f"network.name: got {definition.name!r}; allowed: a non-empty string")
    if definition.name in _NETWORKS and not replace:
        raise CentaurusConfigError(
            f"network.name: got {definition.name!r}, which is registered already; allowed: a new name (or replace=True)"
        )
    _NETWORKS[definition.name] = definition
    return definition


def unregister_network(name: str) -> None:
    """Forget task ``name``'s network (tests that register a toy task clean up with this)."""
    _NETWORKS.pop(name, None)


def network_names() -> tuple[str, ...]:
    """Every registered task, in registration order (the built-ins: kws, denoise, asr)."""
    return tuple(_NETWORKS)


def frontend_tasks() -> tuple[str, ...]:
    """The tasks whose networks may read a feature frontend."""
    return tuple(name for name, definition in _NETWORKS.items() if definition.accepts_frontend)


def did_you_mean(value: object, allowed: Sequence[str]) -> str:
    """`` (did you mean 'kws'?)`` for a likely typo of an allowed name, else nothing."""
    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.6) if isinstance(value, str) else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_task_message(value: object, allowed: Sequence[str], where: str = "task") -> str:
    """The project's message for a task name nobody registered: ``task: got 'kwz' (did you mean 'kws'?);
    allowed: kws, denoise, asr``."""
    return f"{where}: got {value!r}{did_you_mean(value, allowed)}; allowed: {', '.join(allowed)}"


def get_network(name: object) -> NetworkDefinition:
    """The network definition of task ``name``; :class:`CentaurusConfigError` naming the registered ones."""
    if not isinstance(name, str) or name not in _NETWORKS:
        raise CentaurusConfigError(unknown_task_message(name, network_names()))
    return _NETWORKS[name]
