"""One entry point from an architecture spec to its task network."""

from __future__ import annotations

from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.networks.frontend import FRONTEND_TASKS, make_frontend
from centaurus.networks.protocols import ArchitectureLike
from centaurus.networks.tasks import DenoisingUNet, KeywordSpotter, SpeechRecognizer

TASKS = ("kws", "denoise", "asr")


def build(arch: ArchitectureLike) -> nn.Module:
    """The network for ``arch``: a KeywordSpotter, DenoisingUNet or SpeechRecognizer."""
    stages = list(arch.stages)
    if not stages:
        raise CentaurusConfigError("stages: got none; allowed: at least one stage")
    frontend_spec = getattr(arch.input, "frontend", None)
    if frontend_spec is not None and arch.task not in FRONTEND_TASKS:
        raise CentaurusConfigError(f"input.frontend: got one for task {arch.task!r}; allowed: none (waveform output)")
    frontend = make_frontend(frontend_spec, arch.input.channels, arch.input.sample_rate)
    if arch.task == "kws":
        return KeywordSpotter(arch.input.channels, arch.output.size, stages, frontend)
    if arch.task == "denoise":
        return DenoisingUNet(arch.input.channels, arch.output.size, stages)
    if arch.task == "asr":
        return SpeechRecognizer(arch.input.channels, arch.output.size, stages, frontend)
    raise CentaurusConfigError(f"task: got {arch.task!r}; allowed: {', '.join(TASKS)}")
