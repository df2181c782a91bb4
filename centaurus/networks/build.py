"""One entry point from an architecture spec to its task network."""

from __future__ import annotations

from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.networks.protocols import ArchitectureLike
from centaurus.networks.tasks import DenoisingUNet, KeywordSpotter, SpeechRecognizer

TASKS = ("kws", "denoise", "asr")


def build(arch: ArchitectureLike) -> nn.Module:
    """The network for ``arch``: a KeywordSpotter, DenoisingUNet or SpeechRecognizer."""
    stages = list(arch.stages)
    if not stages:
        raise CentaurusConfigError("stages: got none; allowed: at least one stage")
    if arch.task == "kws":
        return KeywordSpotter(arch.input.channels, arch.output.size, stages)
    if arch.task == "denoise":
        return DenoisingUNet(arch.input.channels, arch.output.size, stages)
    if arch.task == "asr":
        return SpeechRecognizer(arch.input.channels, arch.output.size, stages)
    raise CentaurusConfigError(f"task: got {arch.task!r}; allowed: {', '.join(TASKS)}")
