"""Every rule of an architecture spec, broken once: the message names location, field, value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from search_spaces import Architecture, FrontendSpec, InputSpec, OutputSpec, SpecError, Stage


def _build(
    stages: tuple[Any, ...] | None = None,
    task: str = "kws",
    input: Any = None,
    output: Any = None,
) -> Architecture:
    return Architecture(
        task=task,
        input=input if input is not None else InputSpec(),
        output=output if output is not None else OutputSpec(10),
        stages=stages if stages is not None else (Stage("dws", 16, 8, stride=4), Stage("s5", 32, 16)),
    )


def _two(first: Stage | None = None, **second: Any) -> tuple[Stage, Stage]:
    """Stage 0 with 16 channels (or ``first``), then a stage built from ``second``."""
    fields: dict[str, Any] = {"block": "dws", "channels": 32, "num_states": 16, **second}
    return (first or Stage("dws", 16, 8, stride=4), Stage(**fields))


CASES: list[tuple[Any, str]] = [
    # task, input and output
    (lambda: _build(task="vad"), r"^task: got 'vad'; allowed: kws, denoise, asr$"),
    (lambda: InputSpec(length=0), r"^input\.length: got 0; allowed: a positive integer$"),
    (lambda: InputSpec(sample_rate=16000.0), r"^input\.sample_rate: got 16000\.0; allowed: a positive integer$"),  # type: ignore[arg-type]
    (lambda: InputSpec(channels=True), r"^input\.channels: got True; allowed: a positive integer$"),
    (lambda: _build(input={"length": 16000}), r"^input: got dict \{'length': 16000\}; allowed: an InputSpec$"),
    (lambda: OutputSpec(0), r"^output\.size: got 0; allowed: a positive integer$"),
    (lambda: _build(output=OutputSpec(1)), r"^output\.size: got 1; allowed: at least 2 classes for kws$"),
    (lambda: _build(output=35), r"^output: got int 35; allowed: an OutputSpec$"),
    # stages as a whole
    (lambda: _build(stages=()), r"^stages: got \(\); allowed: a non-empty tuple of Stage$"),
    (lambda: _build(stages=({"block": "dws"},)), r"^stages\[0\]: got dict .*; allowed: a Stage$"),
    # field types and ranges
    (lambda: _build(_two(block="conv")), r"^stages\[1\]\.block: got 'conv'; allowed: dws, s5, neck, full, group$"),
    (lambda: _build(_two(channels=True)), r"^stages\[1\]\.channels: got True; allowed: a positive integer$"),
    (lambda: _build(_two(channels=-4)), r"^stages\[1\]\.channels: got -4; allowed: a positive integer$"),
    (lambda: _build(_two(num_states=2.5)), r"^stages\[1\]\.num_states: got 2\.5; allowed: a positive integer$"),
    (lambda: _build(_two(depth=0)), r"^stages\[1\]\.depth: got 0; allowed: a positive integer$"),
    (lambda: _build(_two(stride=0)), r"^stages\[1\]\.stride: got 0; allowed: a positive integer$"),
    (lambda: _build(_two(residual="yes")), r"^stages\[1\]\.residual: got 'yes'; allowed: true or false$"),
    (lambda: _build(_two(norm="group")), r"^stages\[1\]\.norm: got 'group'; allowed: layer, batch, none$"),
    (
        lambda: _build(_two(activation="swish")),
        r"^stages\[1\]\.activation: got 'swish'; allowed: gelu, relu, silu, tanh, none$",
    ),
    # groups: required for group, forbidden otherwise, dividing this stage's and the previous stage's channels
    (
        lambda: _build(_two(block="group", channels=64)),
        r"^stages\[1\]\.groups: got None; allowed: a common divisor of 64 and 16 \(block 'group' needs groups\)$",
    ),
    (
        lambda: _build(_two(groups=4)),
        r"^stages\[1\]\.groups: got 4 for block 'dws'; allowed: None unless block is 'group'$",
    ),
    (
        lambda: _build(_two(block="group", channels=64, groups=3)),
        r"^stages\[1\]\.groups: got 3 which does not divide both channels=64 and the previous stage's channels=16;"
        r" allowed: a common divisor of 64 and 16$",
    ),
    (  # divides this stage's 64 channels but not the 16 it receives
        lambda: _build(_two(block="group", channels=64, groups=32)),
        r"^stages\[1\]\.groups: got 32 which does not divide both channels=64 and the previous stage's channels=16",
    ),
    (  # stage 0 receives its own channels from the 1x1 stem
        lambda: _build((Stage("group", 16, 8, groups=3, stride=4),)),
        r"^stages\[0\]\.groups: got 3 which does not divide channels=16; allowed: a divisor of channels=16$",
    ),
    (lambda: _build(_two(block="group", groups=0)), r"^stages\[1\]\.groups: got 0; allowed: a positive integer$"),
    # bottleneck_ratio: required for neck, forbidden otherwise, in (0, 4]
    (
        lambda: _build(_two(block="neck")),
        r"^stages\[1\]\.bottleneck_ratio: got None; allowed: a number in \(0, 4\] \(block 'neck' needs it\)$",
    ),
    (
        lambda: _build(_two(block="s5", bottleneck_ratio=0.5)),
        r"^stages\[1\]\.bottleneck_ratio: got 0\.5 for block 's5'; allowed: None unless block is 'neck'$",
    ),
    (
        lambda: _build(_two(block="neck", bottleneck_ratio=0.0)),
        r"^stages\[1\]\.bottleneck_ratio: got 0\.0; allowed: a number in \(0, 4\]$",
    ),
    (
        lambda: _build(_two(block="neck", bottleneck_ratio=4.5)),
        r"^stages\[1\]\.bottleneck_ratio: got 4\.5; allowed: a number in \(0, 4\]$",
    ),
    (lambda: _build(_two(block="neck", bottleneck_ratio=True)), r"^stages\[1\]\.bottleneck_ratio: got True; allowed"),
    (
        lambda: _build(_two(block="neck", bottleneck_ratio="0.5")),
        r"^stages\[1\]\.bottleneck_ratio: got '0\.5'; allowed",
    ),
    # state_blocks: only for s5, dividing num_states
    (
        lambda: _build(_two(block="full", state_blocks=2)),
        r"^stages\[1\]\.state_blocks: got 2 for block 'full'; allowed: None unless block is 's5'$",
    ),
    (
        lambda: _build(_two(block="s5", num_states=16, state_blocks=3)),
        r"^stages\[1\]\.state_blocks: got 3 which does not divide num_states=16; allowed: a divisor of num_states$",
    ),
    (
        lambda: _build(_two(block="s5", state_blocks=0)),
        r"^stages\[1\]\.state_blocks: got 0; allowed: a positive integer$",
    ),
    # strides and the task's constraints on them
    (
        lambda: _build(_two(stride=3)),
        r"^stages\.stride: got total stride 12 \(strides 4 \* 3\), which does not divide input\.length=16000;"
        r" allowed: a total stride dividing input\.length$",
    ),
    (
        lambda: _build(_two(stride=1), task="asr", output=OutputSpec(28)),
        r"^stages\.stride: got total stride 4 \(strides 4 \* 1\), a frame rate of 4000 Hz at sample_rate=16000;"
        r" allowed: a frame rate between 25 and 100 Hz for asr \(total stride 160 to 640\)$",
    ),
    (
        lambda: _build(_two(stride=400), task="asr", output=OutputSpec(28), input=InputSpec(length=32000)),
        r"^stages\.stride: got total stride 1600 .*a frame rate of 10 Hz",
    ),
    (
        lambda: _build(_two(stride=2), task="denoise", output=OutputSpec(1)),
        r"^stages\[1\]\.stride: got 2; allowed: 1 for the last stage of a denoise network \(the U-Net bottleneck",
    ),
    # the log-mel frontend
    (lambda: FrontendSpec("mfcc"), r"^input\.frontend\.kind: got 'mfcc'; allowed: logmel$"),
    (lambda: FrontendSpec(mels=0), r"^input\.frontend\.mels: got 0; allowed: a positive integer$"),
    (lambda: FrontendSpec(hop=480), r"^input\.frontend\.hop: got 480; allowed: at most the window \(400 samples\)$"),
    (
        lambda: FrontendSpec(mels=300),
        r"^input\.frontend\.mels: got 300; allowed: at most window // 2 \+ 1 = 201 frequency bins$",
    ),
    (
        lambda: InputSpec(frontend={"kind": "logmel"}),
        r"^input\.frontend: got dict .*; allowed: a FrontendSpec or None$",
    ),  # type: ignore[arg-type]
    (
        lambda: _build(_two(), task="denoise", output=OutputSpec(1), input=InputSpec(frontend=FrontendSpec())),
        r"^input\.frontend: got logmel40/160 for task 'denoise'; allowed: none for denoise; a frontend suits kws, asr$",
    ),
    (
        lambda: _build(input=InputSpec(frontend=FrontendSpec(hop=256, window=512))),
        r"^stages\.stride: got total stride 1024 \(strides 4 \* 1 after the frontend's hop 256\), which does not"
        r" divide input\.length=16000",
    ),
    (
        lambda: _build(_two(stride=5), task="asr", output=OutputSpec(28), input=InputSpec(frontend=FrontendSpec())),
        r"^stages\.stride: got total stride 3200 \(strides 4 \* 5 after the frontend's hop 160\), a frame rate of 5 Hz",
    ),
    (
        lambda: InputSpec.from_dict({"frontend": {"kind": "logmel", "hops": 160}}),
        r"^input\.frontend: got unknown key 'hops' \(did you mean 'hop'\?\); allowed: the keys kind, mels, window, hop$",
    ),
]


@pytest.mark.parametrize(("make", "message"), CASES)
def test_invalid_spec_is_rejected(make: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        make()


def test_spec_error_is_a_config_error_and_a_value_error() -> None:
    from centaurus.errors import CentaurusConfigError

    with pytest.raises(CentaurusConfigError):
        _build(task="vad")
    with pytest.raises(ValueError):
        _build(task="vad")


def test_valid_edge_cases_pass() -> None:
    """The boundaries of each rule are allowed: asr at exactly 25 and 100 Hz, ratio 4, groups = channels."""
    asr = dict(task="asr", output=OutputSpec(28), input=InputSpec(length=32000))
    fast = _build((Stage("dws", 8, 4, stride=160),), **asr)  # 100 Hz
    slow = _build((Stage("dws", 8, 4, stride=640),), **asr)  # 25 Hz
    assert (fast.total_stride, slow.total_stride) == (160, 640)
    assert [16000 / arch.total_stride for arch in (fast, slow)] == [100.0, 25.0]
    neck = _build((Stage("neck", 8, 4, bottleneck_ratio=4),))
    assert neck.stages[0].bottleneck_ratio == 4 and neck.stages[0].bottleneck == 32  # ratio 4 x 8 channels
    grouped = _build((Stage("group", 16, 4, groups=16, stride=4), Stage("group", 32, 4, groups=16)))
    assert [stage.groups for stage in grouped.stages] == [16, 16] and grouped.total_stride == 4
    denoise = _build((Stage("dws", 8, 4, stride=4), Stage("s5", 8, 4)), task="denoise", output=OutputSpec(1))
    assert denoise.task == "denoise" and denoise.output.size == 1
    for arch in (fast, slow, neck, grouped, denoise):  # each is valid as a whole, and survives a round trip
        arch.validate()
        assert type(arch).from_dict(arch.to_dict()) == arch
