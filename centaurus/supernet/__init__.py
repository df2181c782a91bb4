"""Weight sharing: one supernet per search space, whose paths are the space's architectures.

:class:`Supernet` holds per stage one candidate per block type at the largest sizes; a path uses
leading slices (groups: diagonal blocks) of them, and :meth:`Supernet.extract` returns the path as the
stand-alone network ``centaurus.networks.build`` makes, equal to it exactly. :func:`calibrate_batchnorm`
re-estimates an extracted network's batch-norm statistics, which the shared ones do not fit.
No Optuna or Ray here: the search lives in ``nas``.
"""

from centaurus.supernet._batchnorm import calibrate_batchnorm
from centaurus.supernet._space import (
    SpaceLike,
    StageBounds,
    UnshareableSpaceError,
    check_shareable,
    check_subspace,
    common_stride,
    stage_bounds,
)
from centaurus.supernet._supernet import SUPERNET_FORMAT, Supernet, space_fingerprint

__all__ = [
    "SUPERNET_FORMAT",
    "SpaceLike",
    "StageBounds",
    "Supernet",
    "UnshareableSpaceError",
    "calibrate_batchnorm",
    "check_shareable",
    "check_subspace",
    "common_stride",
    "space_fingerprint",
    "stage_bounds",
]
