"""The studies of a comparison: one per (space variant, seed), identical in everything else.

Each variant is the base config with its space replaced by a homogeneous version (or kept, for
the heterogeneous one) and the sampler and training seeds both set to the seed, so two variants
with the same seed differ only in the space. Every study gets its own name and output folder under
the comparison folder, so rerunning the comparison continues unfinished studies and skips done ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from centaurus.modes import MODES
from nas.study.config import StudyConfig
from nas.study.errors import StudyConfigError
from nas.study.weight_sharing import supernet_checkpoint

HETEROGENEOUS = "heterogeneous"
"""The label of the config's own space (every block type offered per stage)."""


@dataclass(frozen=True)
class Variant:
    """One study of the comparison."""

    space: str  # HETEROGENEOUS or a block type
    seed: int
    config: StudyConfig


def comparison_variants(
    base: StudyConfig, *, blocks: Sequence[str] = MODES, seeds: Sequence[int] = (0, 1, 2), out: Path
) -> list[Variant]:
    """The heterogeneous study and one homogeneous study per block in ``blocks``, for every seed."""
    unknown = [block for block in blocks if block not in MODES]
    if unknown:
        raise StudyConfigError(f"compare --blocks: got {', '.join(unknown)}; allowed: {', '.join(MODES)}")
    if not seeds:
        raise StudyConfigError("compare --seeds: got none; allowed: one or more integers")
    if len(set(seeds)) != len(seeds):
        raise StudyConfigError(f"compare --seeds: got {list(seeds)}; allowed: distinct integers")
    spaces = [(HETEROGENEOUS, base.space)] + [(block, base.space.homogeneous(block)) for block in blocks]
    variants: list[Variant] = []
    supernets: dict[int, Path] = {}  # seed -> the heterogeneous study's supernet (weight sharing)
    for label, space in spaces:
        for seed in seeds:
            name = f"{base.name}-{label}-seed{seed}"
            config = replace(
                base,
                name=name,
                space=space,
                sampler=replace(base.sampler, seed=seed),
                training=replace(base.training, seed=seed),
                output=out / "studies",
            )
            if base.weight_sharing and base.supernet.checkpoint is None:
                # every space of one seed is scored on the same supernet: the heterogeneous one, trained by the
                # first study of that seed (a homogeneous architecture is one of its paths); each study still
                # confirms its own top stand-alone, and the verdict reads only confirmations
                if label == HETEROGENEOUS:
                    supernets[seed] = supernet_checkpoint(config)
                else:
                    config = replace(config, supernet=replace(config.supernet, checkpoint=supernets[seed]))
            variants.append(Variant(label, seed, config))
    return variants
