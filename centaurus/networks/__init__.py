"""Task networks built from architecture specs: keyword spotting, denoising, speech recognition, and any
task registered with :func:`register_network` (:mod:`centaurus.networks.registry`).

Importing this package registers the built-in networks (one module each: ``kws``, ``denoise``, ``asr``).
"""

# isort: off
# The built-in networks register on import, in the order error messages list them (kws, denoise, asr).
from centaurus.networks.kws import KeywordSpotter
from centaurus.networks.denoise import DenoisingUNet
from centaurus.networks.asr import SpeechRecognizer

# isort: on
from centaurus.networks.blocks import SSMBlock, Stage, open_streams, ssm_layers
from centaurus.networks.build import build
from centaurus.networks.layout import LayoutWalker
from centaurus.networks.parts import NetworkStream, Trunk
from centaurus.networks.protocols import ArchitectureLike, StageLike
from centaurus.networks.registry import (
    NetworkDefinition,
    frontend_tasks,
    get_network,
    network_names,
    register_network,
    unregister_network,
)

__all__ = [
    "ArchitectureLike",
    "DenoisingUNet",
    "KeywordSpotter",
    "LayoutWalker",
    "NetworkDefinition",
    "NetworkStream",
    "SSMBlock",
    "SpeechRecognizer",
    "Stage",
    "StageLike",
    "Trunk",
    "build",
    "frontend_tasks",
    "get_network",
    "network_names",
    "open_streams",
    "register_network",
    "ssm_layers",
    "unregister_network",
]
