"""The supernet: every path equals its extracted stand-alone network exactly, and bad spaces are refused."""

from __future__ import annotations

import pickle
import random
from copy import deepcopy

import pytest
import torch
from torch import nn

from centaurus import MODES, CentaurusConfigError
from centaurus.networks import build
from centaurus.supernet import (
    Supernet,
    UnshareableSpaceError,
    calibrate_batchnorm,
    common_stride,
    space_fingerprint,
)
from search_spaces import Architecture, FrontendSpec, InputSpec, OutputSpec, SearchSpace, Stage, StageChoices

LENGTH = 32


def _choices(channels: tuple[int, ...], **overrides: object) -> StageChoices:
    values: dict[str, object] = dict(
        block=MODES,
        channels=channels,
        num_states=(2, 3),
        groups=(2, 4),
        bottleneck_ratio=(0.5, 1.0),
        state_blocks=(None, 2),
        depth=(1, 2),
        stride=(1, 2),
        residual=(True, False),
        norm=("batch", "layer"),
        activation=("gelu", "relu"),
    )
    values.update(overrides)
    return StageChoices(**values)  # type: ignore[arg-type]


def tiny_space(task: str = "kws", frontend: FrontendSpec | None = None) -> SearchSpace:
    """Every block type and every elastic field with two choices, at sizes of a few channels."""
    length = 1280 if frontend is not None else LENGTH
    last = {"stride": (1,)} if task == "denoise" else {}
    return SearchSpace(
        name=f"tiny-{task}",
        task=task,
        input=InputSpec(sample_rate=16000, channels=1, length=length, frontend=frontend),
        output=OutputSpec(1 if task == "denoise" else 3),
        stages=(_choices((4, 8)), _choices((4, 8), **last)),
    )


def _perturb(supernet: Supernet, seed: int = 0) -> None:
    """Move every weight and batch-norm statistic off its initial value so that every slice matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in supernet.named_parameters():
            noise = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype)
            tensor.add_(0.3 * noise)
            if name.endswith("log_dt"):
                tensor.add_(2.0)
        for name, tensor in supernet.named_buffers():
            if name.endswith("running_mean"):
                tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype))
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype) + 0.5)


def _paths(supernet: Supernet, count: int, seed: int) -> list[Architecture]:
    rng = random.Random(seed)
    return [supernet.largest(), supernet.smallest(), *(supernet.sample(rng) for _ in range(count))]  # type: ignore[list-item]


def _supernet(space: SearchSpace) -> Supernet:
    torch.manual_seed(0)
    supernet = Supernet(space).double()
    _perturb(supernet)
    return supernet


def _input(space: SearchSpace, batch: int = 3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(batch, space.input.channels, space.input.length, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("mode", MODES)
def test_every_path_equals_its_extracted_network_exactly(mode: str) -> None:
    space = tiny_space().homogeneous(mode)
    supernet = _supernet(space).eval()
    x = _input(space)
    archs = _paths(supernet, 8, seed=MODES.index(mode))
    for arch in archs:
        network = supernet.extract(arch).eval()
        assert type(network) is type(build(arch))
        assert torch.equal(supernet(x, arch), network(x)), arch.summary()
    stages = [stage for arch in archs for stage in arch.stages]
    # the elastic dimensions this mode has were all exercised
    assert {s.channels for s in stages} == {4, 8}
    assert {s.num_states for s in stages} == {2, 3}
    assert {s.depth for s in stages} == {1, 2}
    assert {s.norm for s in stages} == {"batch", "layer"}
    if mode == "group":
        assert {s.groups for s in stages} == {2, 4}
    if mode == "neck":
        assert len({s.bottleneck for s in stages}) >= 3


@pytest.mark.parametrize("task", ["kws", "asr", "denoise"])
def test_heterogeneous_paths_are_exact_for_every_task(task: str) -> None:
    if task == "asr":  # asr needs a 25-100 Hz frame rate: 160-320 samples per frame
        space = SearchSpace(
            name="tiny-asr",
            task="asr",
            input=InputSpec(sample_rate=16000, channels=1, length=640),
            output=OutputSpec(4),
            stages=(_choices((4, 8), stride=(160,), depth=(1,)), _choices((4, 8), stride=(1, 2))),
        )
    else:
        space = tiny_space(task)
    supernet = _supernet(space).eval()
    x = _input(space, batch=2)
    for arch in _paths(supernet, 6, seed=7):
        assert torch.equal(supernet(x, arch), supernet.extract(arch).eval()(x)), arch.summary()


def test_frontend_space_is_shared_and_exact() -> None:
    space = tiny_space(frontend=FrontendSpec("logmel", 8, 64, 32))
    supernet = _supernet(space).eval()
    x = _input(space, batch=2)
    for arch in _paths(supernet, 3, seed=3):
        assert torch.equal(supernet(x, arch), supernet.extract(arch).eval()(x))


def test_training_mode_is_exact_and_updates_the_shared_statistics() -> None:
    space = tiny_space().homogeneous("s5")
    supernet = _supernet(space).train()
    arch = supernet.largest()
    x = _input(space)
    network = supernet.extract(arch).train()
    assert torch.equal(supernet(x, arch), network(x))  # batch statistics in both
    stored = supernet.path_tensors(arch)
    for name, tensor in network.state_dict().items():
        if "running" in name:
            assert torch.equal(stored[name], tensor), name  # the path's update landed in the supernet


def test_gradients_reach_only_the_path_slices() -> None:
    space = tiny_space().homogeneous("group")
    supernet = _supernet(space).train()
    arch = supernet.smallest()
    supernet(_input(space), arch).square().sum().backward()
    weight = supernet.trunk.stages[0].blocks[0].ssm["group"].E  # full layout [d, c, n]
    assert weight.grad is not None
    stage = arch.stages[0]
    assert stage.groups is not None
    used = torch.zeros_like(weight, dtype=torch.bool)
    j = i = stage.channels // stage.groups
    for g in range(stage.groups):
        used[g * j : (g + 1) * j, g * i : (g + 1) * i, : stage.num_states] = True
    assert torch.all(weight.grad[~used] == 0)
    assert torch.any(weight.grad[used] != 0)
    unused_depth = supernet.trunk.stages[1].blocks[1].ssm["group"].E
    assert unused_depth.grad is None  # the second block of a depth-1 stage is not on the path


def test_sampled_paths_are_architectures_of_the_space() -> None:
    space = tiny_space()
    supernet = Supernet(space)
    rng = random.Random(0)
    for _ in range(20):
        arch = supernet.sample(rng)
        assert isinstance(arch, Architecture)
        arch.validate()
        assert Architecture.from_dict(arch.to_dict()) == arch
    largest, smallest = supernet.largest(), supernet.smallest()
    assert all(s.channels == 8 and s.depth == 2 and s.num_states == 3 for s in largest.stages)
    assert all(s.channels == 4 and s.depth == 1 and s.num_states == 2 for s in smallest.stages)
    assert {s.block for s in largest.stages} == {"full"}  # the most weights at the largest sizes
    assert {s.block for s in supernet.largest("s5").stages} == {"s5"}
    with pytest.raises(CentaurusConfigError, match="block: got 'wide'"):
        supernet.largest("wide")


def test_shared_block_gives_one_block_everywhere() -> None:
    base = tiny_space()
    space = SearchSpace(base.name, base.task, base.input, base.output, base.stages, shared=("block",))
    supernet = Supernet(space)
    for arch in (supernet.largest(), supernet.smallest()):
        assert len({s.block for s in arch.stages}) == 1


def test_foreign_architecture_is_refused_with_the_stage_named() -> None:
    supernet = Supernet(tiny_space())
    wide = Stage("s5", 16, 2)
    arch = Architecture("kws", supernet.space.input, supernet.space.output, (wide, Stage("s5", 4, 2)))
    with pytest.raises(CentaurusConfigError, match=r"stages\[0\]"):
        supernet(_input(supernet.space).float(), arch)
    other = Architecture("kws", InputSpec(length=64), supernet.space.output, (wide, wide))
    with pytest.raises(CentaurusConfigError, match=r"arch\.input"):
        supernet.extract(other)


def test_unshareable_spaces_are_refused_naming_the_field() -> None:
    space = tiny_space()
    with_inputs = tiny_space()
    object.__setattr__(with_inputs, "input", (space.input, InputSpec(length=LENGTH, frontend=FrontendSpec())))
    with pytest.raises(UnshareableSpaceError, match=r"^input: got 2 choices"):
        Supernet(with_inputs)
    frontends = tiny_space()
    audio = InputSpec(length=LENGTH)
    object.__setattr__(audio, "frontend", (FrontendSpec("logmel", 40), FrontendSpec("logmel", 64)))
    object.__setattr__(frontends, "input", audio)
    with pytest.raises(UnshareableSpaceError, match=r"input\.frontend: got 2 choices.*features"):
        Supernet(frontends)
    assert issubclass(UnshareableSpaceError, CentaurusConfigError)


def test_fingerprint_is_the_space_identity() -> None:
    assert (
        Supernet(tiny_space()).fingerprint() == Supernet(tiny_space()).fingerprint() == space_fingerprint(tiny_space())
    )
    assert Supernet(tiny_space()).fingerprint() != Supernet(tiny_space().homogeneous("s5")).fingerprint()


def test_a_pickled_supernet_runs_the_same_paths() -> None:
    supernet = _supernet(tiny_space()).eval()
    arch = supernet.sample(random.Random(5))
    x = _input(supernet.space)
    expected = supernet(x, arch)  # fills the skeleton cache, which pickling leaves out
    copy = pickle.loads(pickle.dumps(supernet))
    assert torch.equal(copy(x, arch), expected)
    assert torch.equal(deepcopy(supernet)(x, arch), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_paths_are_exact_on_cuda() -> None:
    space = tiny_space()
    supernet = _supernet(space).cuda().eval()
    x = _input(space).cuda()
    for arch in _paths(supernet, 4, seed=11):
        assert torch.equal(supernet(x, arch), supernet.extract(arch).eval()(x)), arch.summary()


def test_calibrate_batchnorm_is_a_cumulative_average() -> None:
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv1d(2, 3, 1), nn.BatchNorm1d(3))
    module.eval()
    batches = [torch.randn(4, 2, 5) + k for k in range(3)]
    used = calibrate_batchnorm(module, [(b, None) for b in batches])
    assert used == 3
    norm = module[1]
    with torch.no_grad():
        means = torch.stack([module[0](b).mean(dim=(0, 2)) for b in batches])
    torch.testing.assert_close(norm.running_mean, means.mean(dim=0))
    assert norm.momentum == 0.1 and not module.training and not norm.training
    assert calibrate_batchnorm(nn.Linear(2, 2), batches) == 0


def test_common_stride_is_the_lcm_of_every_paths_stride() -> None:
    assert common_stride(tiny_space()) == 4  # totals 1, 2, 4
    with_frontend = tiny_space(frontend=FrontendSpec("logmel", 8, 64, 32))
    assert common_stride(with_frontend) == 32 * 4
    odd = SearchSpace(
        name="odd",
        task="kws",
        input=InputSpec(length=36 * 4),
        output=OutputSpec(3),
        stages=(_choices((4,), stride=(2, 3)), _choices((4,), stride=(2, 3))),
    )
    assert common_stride(odd) == 36  # totals 4, 6, 9
