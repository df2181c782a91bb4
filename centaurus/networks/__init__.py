"""Task networks built from architecture specs: keyword spotting, denoising, speech recognition, and any
task registered with :func:`register_network` (:mod:`centaurus.networks.registry`).

Importing this package registers the built-in networks (one module each: ``kws``, ``denoise``, ``asr``).
"""

# isort: off
# The built-in networks register on import, in the order error messages list them (kws, denoise, asr).
from centaurus.networks._kws import KeywordSpotter
from centaurus.networks._denoise import DenoisingUNet
from centaurus.networks._asr import SpeechRecognizer

# isort: on
from centaurus.networks._blocks import SSMBlock, Stage, open_streams, ssm_layers
from centaurus.networks._parts import NetworkStream, Trunk
from centaurus.networks.build import build
from centaurus.networks.layout import LayoutWalker
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
