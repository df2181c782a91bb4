"""Built-in search spaces for the three tasks, and a homogeneous variant of each per block type.

Spaces are registered by name (:func:`register_space`); the built-in tasks' spaces are defined here
because :func:`builtin_space` must work with ``search_spaces`` alone (it cannot import ``nas``, where
the rest of a task is defined). A task added later brings its spaces in its ``nas.tasks.TaskDefinition``
(``spaces=``), which registers them here; every registered space also gets its homogeneous variants.

Ranges follow the Centaurus paper (channels 8-256, 8-64 states, all five block types) but are
kept small enough to train on a 2-core CPU in the quick studies: the full-rate first stage is
narrow (8-16 channels) and downsamples by 4 at once, and widths grow only as time is downsampled
(an SSM layer's cost grows with channels x states x length, the full block with channels squared).
Every channel count is a power of two of at least 8, so every groups choice (2, 4, 8) is valid in
every context and no group draw ever needs remapping.
"""

from __future__ import annotations

from collections.abc import Callable

from centaurus.modes import MODES
from search_spaces import _checks
from search_spaces._space import SearchSpace
from search_spaces._spec import FrontendSpec, InputSpec, OutputSpec
from search_spaces.choices import StageChoices

_GROUPS = (2, 4, 8)
_BOTTLENECK_RATIOS = (0.25, 0.5)
_STATE_BLOCKS = (None, 4)
_NORMS = ("batch",)  # per-step layer norm cannot learn raw audio in short budgets (README, Training)
_ACTIVATIONS = ("gelu", "silu", "relu")
_SHARED = ("norm", "activation")  # one norm and one activation per network: a per-stage mix rarely helps
_KWS_CLASSES = 35  # Speech Commands v2: 35 words
_ASR_VOCABULARY = 28  # a-z, space, apostrophe (the CTC blank is added by the recogniser)


def _stage(
    channels: tuple[int, ...], num_states: tuple[int, ...], stride: tuple[int, ...], depth: tuple[int, ...] = (1,)
) -> StageChoices:
    """A stage offering every block type, with the spaces' common conditional, norm and activation choices."""
    return StageChoices(
        block=MODES,
        channels=channels,
        num_states=num_states,
        groups=_GROUPS,
        bottleneck_ratio=_BOTTLENECK_RATIOS,
        state_blocks=_STATE_BLOCKS,
        depth=depth,
        stride=stride,
        norm=_NORMS,
        activation=_ACTIVATIONS,
    )


def _audio_space(
    name: str,
    task: str,
    output: int,
    stages: tuple[StageChoices, ...],
    *,
    length: int = 16000,
    frontend: FrontendSpec | None = None,
) -> SearchSpace:
    """A built-in space on 16 kHz mono audio (``length`` samples), with the spaces' shared choices."""
    input_spec = InputSpec(sample_rate=16000, channels=1, length=length, frontend=frontend)
    return SearchSpace(name=name, task=task, input=input_spec, output=OutputSpec(output), stages=stages, shared=_SHARED)


def _waveform_stem() -> tuple[StageChoices, ...]:
    """The first three stages of the spaces that read raw audio: they turn samples into a spectral
    representation (total stride 32-64), the same work whatever the task."""
    return (
        _stage((8, 16), (8, 16), (4,)),
        _stage((16, 32), (8, 16), (4,)),
        _stage((32, 64), (16, 32), (2, 4)),
    )


def _kws() -> SearchSpace:
    """Keyword spotting on 1 s at 16 kHz; total stride 32-128 (125-500 frames before pooling)."""
    deep = (_stage((64, 128), (16, 32, 64), (1, 2), depth=(1, 2)), _stage((64, 128), (32, 64), (1,), depth=(1, 2)))
    return _audio_space("kws", "kws", _KWS_CLASSES, (*_waveform_stem(), *deep))


def _kws_mel() -> SearchSpace:
    """Keyword spotting on 40 log-mel bands every 10 ms (100 frames per second); total stride 1-4 frames.

    The raw-audio space spends its first two stages turning samples into a spectral representation;
    here a fixed frontend does that, so the stages start wide and every training step is about 100x
    cheaper: architectures separate by accuracy within a minute of CPU training (README).
    """
    stages = (
        _stage((32, 64), (8, 16), (1, 2)),
        _stage((32, 64), (16, 32), (1, 2)),
        _stage((64, 128), (16, 32, 64), (1,), depth=(1, 2)),
        _stage((64, 128), (32, 64), (1,)),
    )
    return _audio_space("kws-mel", "kws", _KWS_CLASSES, stages, frontend=FrontendSpec("logmel", 40, 400, 160))


def _denoise() -> SearchSpace:
    """Waveform denoising hourglass on 1 s at 16 kHz: three downsampling encoder stages, a stride-1 bottleneck."""
    sizes = (((8, 16), (8, 16)), ((16, 32), (8, 16)), ((32, 64), (16, 32)))  # (channels, states) per stage
    encoder = tuple(_stage(channels, states, (2, 4)) for channels, states in sizes)
    return _audio_space("denoise", "denoise", 1, (*encoder, _stage((64, 128), (16, 32, 64), (1,), depth=(1, 2))))


def _asr() -> SearchSpace:
    """CTC recognition on 2 s at 16 kHz: total stride 160 or 320 (100 or 50 Hz frames)."""
    tail = tuple(_stage((64, 128), (32, 64), (1,), depth=(1, 2)) for _ in range(2))
    return _audio_space(
        "asr", "asr", _ASR_VOCABULARY, (*_waveform_stem(), _stage((64, 128), (16, 32), (5,)), *tail), length=32000
    )


_BASES: dict[str, Callable[[], SearchSpace]] = {}


def register_space(name: str, factory: Callable[[], SearchSpace], *, replace: bool = False) -> None:
    """Make ``builtin_space(name)`` return ``factory()`` (and ``builtin_space(f"{name}-{block}")`` its
    homogeneous variants). A taken name is refused unless ``replace``: two spaces under one name would make
    a study's ``space:`` ambiguous."""
    if not isinstance(name, str) or not name or (name in _BASES and not replace):
        _checks.fail("space", repr(name), "a new, non-empty space name")
    _BASES[name] = factory


def unregister_space(name: str) -> None:
    """Forget space ``name`` (tests that register a toy task clean up with this)."""
    _BASES.pop(name, None)


def space_names() -> tuple[str, ...]:
    """Every built-in space name: each registered base, then its homogeneous variant per block type."""
    return tuple(name for base in _BASES for name in (base, *(f"{base}-{block}" for block in MODES)))


def __getattr__(name: str) -> tuple[str, ...]:
    """``BUILTIN_SPACES``, computed on access so that spaces registered later are listed too."""
    if name == "BUILTIN_SPACES":
        return space_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def builtin_space(name: str) -> SearchSpace:
    """The built-in space ``name``: a base space (``kws``, ``kws-mel``) or a base with one block type
    everywhere (``kws-s5``, ``kws-mel-s5``)."""
    names = space_names()
    if name not in names:
        _checks.fail("space", repr(name), ", ".join(names))
    if name in _BASES:
        return _BASES[name]()
    base, _, block = name.rpartition("-")
    return _BASES[base]().homogeneous(block)


for _name, _factory in (("kws", _kws), ("kws-mel", _kws_mel), ("denoise", _denoise), ("asr", _asr)):
    register_space(_name, _factory)
