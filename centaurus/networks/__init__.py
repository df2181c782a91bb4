"""Task networks built from architecture specs: keyword spotting, denoising, speech recognition."""

from centaurus.networks.blocks import SSMBlock, Stage, open_streams, ssm_layers
from centaurus.networks.build import TASKS, build
from centaurus.networks.protocols import ArchitectureLike, StageLike
from centaurus.networks.tasks import DenoisingUNet, KeywordSpotter, NetworkStream, SpeechRecognizer

__all__ = [
    "TASKS",
    "ArchitectureLike",
    "DenoisingUNet",
    "KeywordSpotter",
    "NetworkStream",
    "SSMBlock",
    "SpeechRecognizer",
    "Stage",
    "StageLike",
    "build",
    "open_streams",
    "ssm_layers",
]
