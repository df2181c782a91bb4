"""Constant tensors shared between calls (per size, dtype and device), built once.

Building a few small constants (the factored kernel's column times, the FFT bin weights) cost more
than using them on small layers, so they are cached. A cache must never hold a tensor of a
computation that is not real: under ``FakeTensorMode`` (the cost model's measurements) or while a
graph is exported, tensors are placeholders, and a cached placeholder would break every later
real call of that size. Those computations build their constants afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import torch
from torch._subclasses.fake_tensor import FakeTensor

T = TypeVar("T")


def shared_constant(build: Callable[..., T], like: torch.Tensor, *key: Any) -> T:
    """``build(*key, like.dtype, like.device)``, cached unless ``like`` is fake or a graph is exported."""
    if isinstance(like, FakeTensor) or torch.compiler.is_exporting():
        return build(*key, like.dtype, like.device)
    return _cached(build, *key, like.dtype, like.device)


@lru_cache(maxsize=512)
def _cached(build: Callable[..., Any], *key: Any) -> Any:
    return build(*key)
