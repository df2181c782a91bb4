"""Which estimated architectures to retrain stand-alone: the top of the estimated front, and a few others.

The top ``k`` are taken in NSGA-II's order (non-dominated rank, then crowding distance, the front's
extremes first), so they spread along the estimated front instead of crowding around one corner;
when the front has fewer than ``k`` architectures the next ranks fill in. ``random`` further
architectures are drawn from the rest with the study's sampler seed: if only the top were
retrained, the rank correlation would be measured on the architectures the estimate likes best, where
it is most likely to be flattering.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from nas.study.scheduler import promotion_order


def choose_confirmations(
    estimates: Mapping[int, Sequence[float]],
    arch_ids: Mapping[int, str],
    directions: Sequence[str],
    *,
    top: int,
    extra: int,
    seed: int,
) -> tuple[list[int], list[int]]:
    """``(top trial numbers, random trial numbers)``: distinct architectures, none chosen twice.

    ``estimates`` maps an estimated trial's number to its objective values, ``arch_ids`` to its
    architecture. Trials with a non-finite objective are never chosen.
    """
    finite = {number: list(values) for number, values in estimates.items() if all(map(math.isfinite, values))}
    seen: set[str] = set()
    chosen: list[int] = []
    for number in promotion_order(finite, directions):
        if len(chosen) == top:
            break
        if arch_ids[number] not in seen:
            seen.add(arch_ids[number])
            chosen.append(number)
    rest = sorted(number for number in finite if number not in chosen)
    rng = random.Random(seed)
    rng.shuffle(rest)
    drawn: list[int] = []
    for number in rest:
        if len(drawn) == extra:
            break
        if arch_ids[number] not in seen:
            seen.add(arch_ids[number])
            drawn.append(number)
    return chosen, sorted(drawn)
