"""Search spaces: exact counting, enumeration, Optuna sampling, seeded random draws, conditional fields."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import optuna
import pytest

from search_spaces import Architecture, SearchSpace, SpecError, StageChoices
from tests.search_spaces.examples import small_space

optuna.logging.set_verbosity(optuna.logging.WARNING)

# Hand count of small_space(), per value of the shared norm (x2 norms at the end):
#   stage 0 (channels 4 or 6): dws -> 1 per channels; group -> groups {2,4} divide 4, only {2} divides 6.
#            -> 3 stages with 4 channels, 2 with 6.
#   stage 1 after p channels: s5 -> 2 channels x (3 state blocks for 4 states + 2 (None, 2) for 6) = 10;
#            neck -> 2 channels x 2 states x 2 ratios = 8;
#            group -> 2 states x (groups dividing both c and p): p=4: c=4 {2,4}, c=8 {2,4} -> 8;
#                                                              p=6: c=4 {2},   c=8 {2}   -> 4.
#            -> 26 after 4 channels, 22 after 6.
#   3 * 26 + 2 * 22 = 122 per norm, 244 in all.
SMALL_SPACE_SIZE = 244


def test_size_matches_hand_count_and_enumeration() -> None:
    space = small_space()
    architectures = list(space.enumerate())
    assert space.size() == SMALL_SPACE_SIZE
    assert len(architectures) == SMALL_SPACE_SIZE
    assert len(set(architectures)) == SMALL_SPACE_SIZE
    assert len({arch.id for arch in architectures}) == SMALL_SPACE_SIZE


@pytest.mark.parametrize("shared", [(), ("norm",), ("block",), ("channels",), ("norm", "num_states")])
def test_size_equals_enumeration_under_sharing(shared: tuple[str, ...]) -> None:
    base = small_space(shared=())
    stages = base.stages
    if "block" in shared or "num_states" in shared:  # shared fields need the same choices in every stage
        common = ("s5", "group")
        stages = tuple(
            StageChoices(
                block=common,
                channels=s.channels,
                num_states=(4, 6),
                groups=(2,),
                state_blocks=(None, 2, 4),
                stride=s.stride,
                norm=s.norm,
            )
            for s in stages
        )
    if "channels" in shared:
        stages = tuple(StageChoices(**{**s.__dict__, "channels": (4, 8)}) for s in stages)
    space = SearchSpace(base.name, base.task, base.input, base.output, stages, shared=shared)
    architectures = set(space.enumerate())
    assert len(architectures) == space.size()
    for name in shared:
        for arch in architectures:
            assert len({getattr(stage, name) for stage in arch.stages}) == 1


def test_enumerate_refuses_large_spaces_before_yielding() -> None:
    with pytest.raises(SpecError, match=r"enumerate: got a space of 244 architectures; allowed: at most limit=100"):
        small_space().enumerate(limit=100)


def test_random_draws_cover_exactly_the_enumerated_set() -> None:
    space = small_space()
    rng = random.Random(1)
    drawn = {space.random(rng) for _ in range(8000)}
    assert drawn == set(space.enumerate())


def test_random_is_deterministic_per_seed() -> None:
    space = small_space()
    first = [space.random(random.Random(7)) for _ in range(3)]
    rng_a, rng_b = random.Random(42), random.Random(42)
    assert [space.random(rng_a) for _ in range(20)] == [space.random(rng_b) for _ in range(20)]
    assert len(set(first)) == 1
    rng_c = random.Random(43)
    assert [space.random(rng_c) for _ in range(20)] != [space.random(random.Random(42)) for _ in range(20)]


def test_sample_with_optuna_gives_valid_architectures_and_prefixed_names() -> None:
    space = small_space()
    valid = set(space.enumerate())
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
    names: set[str] = set()
    for _ in range(25):
        trial = study.ask()
        arch = space.sample(trial)
        assert isinstance(arch, Architecture) and arch in valid
        names |= set(trial.params)
        study.tell(trial, float(arch.stages[1].channels))
    # Only searched fields are suggested: stage 0's num_states and both strides have one choice.
    allowed = {"norm", "s0.block", "s0.channels", "s0.groups"} | {
        f"s1.{name}" for name in ("block", "channels", "num_states", "groups", "bottleneck_ratio", "state_blocks")
    }
    assert names <= allowed
    assert {"norm", "s0.block", "s0.channels", "s1.block", "s1.channels", "s1.num_states"} <= names


def _random_draws(space: SearchSpace, seed: int, count: int) -> Iterator[tuple[optuna.trial.Trial, Architecture]]:
    """``count`` architectures a seeded random sampler draws through ``space.sample``, each with its trial
    (told, once the caller has looked at it, so the next draw is a new trial of the same study)."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(count):
        trial = study.ask()
        yield trial, space.sample(trial)
        study.tell(trial, 0.0)


def test_conditional_fields_are_suggested_only_for_their_block() -> None:
    for trial, arch in _random_draws(small_space(), seed=3, count=40):
        for index, stage in enumerate(arch.stages):
            assert (f"s{index}.groups" in trial.params) == (stage.block == "group")
        assert ("s1.bottleneck_ratio" in trial.params) == (arch.stages[1].block == "neck")
        assert ("s1.state_blocks" in trial.params) == (arch.stages[1].block == "s5")


def test_sample_replays_from_trial_params() -> None:
    space = small_space()
    for trial, arch in _random_draws(space, seed=5, count=20):
        assert space.sample(optuna.trial.FixedTrial(trial.params)) == arch


class _ScriptedTrial:
    """Answers with scripted values, else each parameter's first choice; records what was asked."""

    def __init__(self, **answers: Any) -> None:
        self.answers = {name.replace("__", "."): value for name, value in answers.items()}
        self.asked: dict[str, tuple[Any, ...]] = {}

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        self.asked[name] = tuple(choices)
        return self.answers.get(name, choices[0])


def test_invalid_groups_map_to_the_nearest_valid_value() -> None:
    space = small_space()
    # Stage 0 has 6 channels, so stage 1 (8 channels) can only use groups=2: the drawn 4 maps to 2.
    trial = _ScriptedTrial(s0__block="dws", s0__channels=6, s1__block="group", s1__channels=8, s1__groups=4)
    arch = space.sample(trial)
    assert arch.stages[1].groups == 2
    assert trial.asked["s1.groups"] == (2, 4)  # the choice list never changes: Optuna needs it fixed per name


def test_invalid_state_blocks_map_to_the_nearest_valid_value() -> None:
    space = small_space()
    trial = _ScriptedTrial(s1__block="s5", s1__num_states=6, s1__state_blocks=4)
    assert space.sample(trial).stages[1].state_blocks == 2


def test_shared_field_is_one_parameter_for_the_network() -> None:
    space = small_space()
    trial = _ScriptedTrial(norm="batch")
    arch = space.sample(trial)
    assert [stage.norm for stage in arch.stages] == ["batch", "batch"]
    assert "norm" in trial.asked and not any(name.endswith(".norm") for name in trial.asked)


def test_homogeneous_variant_has_one_block_and_drops_other_blocks_choices() -> None:
    space = small_space().homogeneous("s5")
    assert space.name == "small-s5"
    assert all(stage.block == ("s5",) and stage.groups == () and stage.bottleneck_ratio == () for stage in space.stages)
    architectures = list(space.enumerate())
    assert len(architectures) == space.size() == 2 * (2 * 1) * (2 * (3 + 2))  # norms * stage 0 * stage 1
    assert {stage.block for arch in architectures for stage in arch.stages} == {"s5"}


def test_homogeneous_with_no_conditional_choices_left_is_valid() -> None:
    space = small_space().homogeneous("dws")
    assert space.size() == 2 * 2 * (2 * 2)  # norms x stage 0 channels x stage 1 (channels x states)


def test_frequencies_follow_the_drawn_choice_lists() -> None:
    """Random draws pick each listed choice uniformly (remapping only moves invalid ones)."""
    space = small_space()
    rng = random.Random(0)
    blocks = Counter(space.random(rng).stages[1].block for _ in range(3000))
    assert set(blocks) == {"s5", "neck", "group"}
    assert min(blocks.values()) > 850


def test_drawn_architectures_build_into_networks() -> None:
    """The spec is what ``centaurus.networks.build`` reads: groups, bottleneck and state blocks fit the layers."""
    import torch

    from centaurus.networks import build

    space = small_space()
    rng = random.Random(11)
    for _ in range(6):
        arch = space.random(rng)
        logits = build(arch)(torch.randn(2, arch.input.channels, arch.input.length))
        assert logits.shape == (2, arch.output.size)
