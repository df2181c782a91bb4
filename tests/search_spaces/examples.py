"""Small specs and spaces shared by the search-space tests."""

from __future__ import annotations

from search_spaces import Architecture, InputSpec, OutputSpec, SearchSpace, Stage, StageChoices


def example_architecture() -> Architecture:
    """The spec whose summary is the documented example line (total stride 8 divides 16000)."""
    return Architecture(
        task="kws",
        input=InputSpec(),
        output=OutputSpec(35),
        stages=(
            Stage("full", 16, 16, stride=4),
            Stage("group", 64, 32, groups=4, stride=2),
            Stage("neck", 128, 16, bottleneck_ratio=0.25, depth=2),
            Stage("s5", 256, 64),
        ),
    )


def small_space(shared: tuple[str, ...] = ("norm",)) -> SearchSpace:
    """A space small enough to count by hand (244 architectures, see test_space.py).

    Stage 1's valid groups depend on stage 0's channels (6 allows only groups=2) and its valid
    state blocks on its number of states (6 states rule out 4 blocks), so counting, enumeration
    and drawing all meet the conditional cases.
    """
    return SearchSpace(
        name="small",
        task="kws",
        input=InputSpec(sample_rate=16, channels=1, length=16),
        output=OutputSpec(2),
        stages=(
            StageChoices(
                block=("dws", "group"),
                channels=(4, 6),
                num_states=(2,),
                groups=(2, 4),
                stride=(2,),
                norm=("layer", "batch"),
            ),
            StageChoices(
                block=("s5", "neck", "group"),
                channels=(4, 8),
                num_states=(4, 6),
                groups=(2, 4),
                bottleneck_ratio=(0.5, 1.0),
                state_blocks=(None, 2, 4),
                norm=("layer", "batch"),
            ),
        ),
        shared=shared,
    )
