"""One entry point from an architecture spec to its task network: the network its layout describes."""

from __future__ import annotations

from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.networks.frontend import FRONTEND_KINDS
from centaurus.networks.layout import network_layout, total_stride
from centaurus.networks.protocols import ArchitectureLike
from centaurus.networks.registry import frontend_tasks, get_network


def build(arch: ArchitectureLike) -> nn.Module:
    """The network for ``arch``: the module of its task's registered :class:`NetworkDefinition`
    (``KeywordSpotter``, ``DenoisingUNet``, ``SpeechRecognizer`` for the built-in tasks).

    Every module is instantiated from an op of :func:`~centaurus.networks.layout.network_layout` (the
    description the cost model prices), named as the op: the layout is the network's one description.
    """
    stages = list(arch.stages)
    if not stages:
        raise CentaurusConfigError("stages: got none; allowed: at least one stage")
    frontend_spec = getattr(arch.input, "frontend", None)
    if frontend_spec is not None and arch.task not in frontend_tasks():
        raise CentaurusConfigError(f"input.frontend: got one for task {arch.task!r}; allowed: none (waveform output)")
    if frontend_spec is not None and frontend_spec.kind not in FRONTEND_KINDS:
        raise CentaurusConfigError(f"frontend.kind: got {frontend_spec.kind!r}; allowed: {', '.join(FRONTEND_KINDS)}")
    definition = get_network(arch.task)
    stride = total_stride(arch)
    layout = {op.name: op for op in network_layout(arch, batch=1, length=stride)}
    return definition.network(layout, stride)
