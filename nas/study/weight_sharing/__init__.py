"""Weight-sharing search (issue 21): one supernet per study estimates many architectures; the best are confirmed.

``strategy: weight-sharing`` in a study config selects :class:`WeightSharingDriver` instead of the
ordinary one-network-per-trial driver; :mod:`.fronts` tells estimates and confirmations apart for
status, ``pareto``, reports and export.
"""

from nas.study.weight_sharing._driver import (
    SUPERNET_ATTR,
    ConfirmationDriver,
    SupernetError,
    WeightSharingDriver,
    supernet_checkpoint,
)
from nas.study.weight_sharing._requests import Estimation, SupernetFunctions, SupernetTrained, SupernetTraining
from nas.study.weight_sharing._runner import InProcessRunner, RayRunner, TaskRunner
from nas.study.weight_sharing._selection import choose_confirmations
from nas.study.weight_sharing.fronts import (
    CONFIRMED,
    ESTIMATED,
    Agreement,
    agreement,
    complete_of_kind,
    kind_of,
    rank_agreement,
)

__all__ = [
    "CONFIRMED",
    "ESTIMATED",
    "SUPERNET_ATTR",
    "Agreement",
    "ConfirmationDriver",
    "Estimation",
    "InProcessRunner",
    "RayRunner",
    "SupernetError",
    "SupernetFunctions",
    "SupernetTrained",
    "SupernetTraining",
    "TaskRunner",
    "WeightSharingDriver",
    "agreement",
    "choose_confirmations",
    "complete_of_kind",
    "kind_of",
    "rank_agreement",
    "supernet_checkpoint",
]
