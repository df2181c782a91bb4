"""The built-in spaces: each draws valid architectures, fits its task, and the variants keep to their block."""

from __future__ import annotations

import random

import pytest

from centaurus.modes import MODES
from search_spaces import BUILTIN_SPACES, FrontendSpec, SearchSpace, SpecError, builtin_space


def test_names() -> None:
    assert len(BUILTIN_SPACES) == 4 * (1 + len(MODES))  # kws, kws-mel, denoise, asr and their variants
    assert {"kws", "kws-mel", "denoise", "asr", "kws-dws", "kws-mel-s5", "denoise-neck", "asr-group"} <= set(
        BUILTIN_SPACES
    )


@pytest.mark.parametrize("name", BUILTIN_SPACES)
def test_every_builtin_space_draws_valid_architectures(name: str) -> None:
    space = builtin_space(name)
    assert space.name == name
    rng = random.Random(0)
    architectures = [space.random(rng) for _ in range(20)]  # each one validated on construction
    assert len(set(architectures)) > 1
    task = name.partition("-")[0]
    assert all(arch.task == task for arch in architectures)
    block = name.rpartition("-")[2] if name.rpartition("-")[2] in MODES else ""
    blocks = {stage.block for arch in architectures for stage in arch.stages}
    if block:
        assert blocks == {block}
        assert all(stage.block == (block,) for stage in space.stages)
    else:
        assert all(stage.block == MODES for stage in space.stages)
    assert SearchSpace.from_yaml(space.to_yaml()) == space


@pytest.mark.parametrize("task", ["kws", "denoise", "asr"])
def test_task_conventions(task: str) -> None:
    space = builtin_space(task)
    rng = random.Random(1)
    for _ in range(20):
        arch = space.random(rng)
        assert arch.stages[0].channels <= 16  # the full-rate stage stays narrow for CPU training
        assert arch.stages[0].stride > 1  # and downsamples at once
        assert 3 <= len(arch.stages) <= 6
        if task == "kws":
            assert arch.output.size == 35 and arch.input.length == 16000
        elif task == "denoise":
            assert arch.output.size == 1 and arch.stages[-1].stride == 1
        else:
            assert arch.output.size == 28 and arch.input.length == 32000
            assert arch.total_stride in (160, 320)  # 100 or 50 Hz frames


def test_heterogeneous_space_offers_every_block_somewhere() -> None:
    space = builtin_space("kws")
    rng = random.Random(2)
    seen = {stage.block for _ in range(50) for stage in space.random(rng).stages}
    assert seen == set(MODES)


def test_unknown_name_lists_the_builtin_names() -> None:
    with pytest.raises(SpecError, match=r"^space: got 'vad'; allowed: kws, kws-dws, kws-s5, .*asr-group$"):
        builtin_space("vad")


def test_builtin_spaces_are_too_large_to_enumerate() -> None:
    with pytest.raises(SpecError, match=r"^enumerate: got a space of \d+ architectures"):
        builtin_space("kws").enumerate()


def test_kws_mel_steps_cost_a_fraction_of_raw_audio_steps() -> None:
    """The log-mel space's stages run on 100 frames per second instead of 16000 samples."""
    from nas.cost import score

    rng = random.Random(0)
    mel = sorted(score(builtin_space("kws-mel").random(rng), batch=16).train_flops for _ in range(7))
    raw = sorted(score(builtin_space("kws").random(rng), batch=16).train_flops for _ in range(7))
    assert mel[3] * 4 < raw[3]  # medians (measured: 9.4x)
    assert all(arch.input.frontend == FrontendSpec() for arch in (builtin_space("kws-mel").random(rng),))
