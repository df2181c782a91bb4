"""One weight-sharing network per search space: every architecture of the space is a path through it.

Storage. Each stage holds, per block position up to the deepest choice, one candidate SSM layer per
block type the space allows there, allocated at the stage's largest sizes (:class:`StageBounds`),
one post-norm per (block type, norm kind), and a 1x1 skip for a first block whose width may change;
one downsampling (and, in a U-Net, upsampling) convolution per stride choice. Frontend, stem,
pooling and head are shared; the head reads a leading slice of its input channels.

Slices. A path uses, of every stored tensor, the leading slice of the sizes its own network has
(``t[:s0, :s1, ...]``). This is valid because, in every mode, dropping trailing channels, states or
bottleneck blocks removes whole terms from the layer's sums and nothing else:

* ``dws`` ``E[c,n]``, ``W[d,c]``, poles ``[c,n]``, ``log_dt[c]``: each input channel has its own SSM of
  ``n`` poles; keeping channels ``< c`` and poles ``< n`` is a narrower depthwise layer, and ``W[:d,:c]``
  its mixer.
* ``s5`` ``B[n,c]``, ``C[d,n]``, poles and ``log_dt`` ``[n]``: the state is a set of independent poles;
  ``n`` of them with ``B[:n,:c]`` and ``C[:d,:n]`` is an s5 layer of ``n`` states.
* ``neck`` ``B[r,c]``, ``E[r,m]``, ``C[d,r]``, poles ``[r,m]``, ``log_dt[r]``: each of the ``r`` blocks is an
  independent kernel mixed from ``m`` poles; leading blocks and leading poles per block are a neck
  layer of ``r`` blocks of ``m`` states.
* ``full`` ``E[d,c,n]``, poles ``[d,c,n]``, ``log_dt[d,c]``: one SSM per (output, input) pair; the leading
  ``d x c`` pairs with their leading ``n`` poles are a smaller full layer.
* ``group``: stored in the full layout ``[d,c,n]`` (``log_dt[d,c]``), and a path with ``g`` groups takes
  the ``g`` diagonal ``j x i`` blocks of its leading ``[:d,:c,:n]`` slice (``j = d/g``, ``i = c/g``):
  the group layer's ``E[g,j,i,n]`` is exactly the full layer's weight restricted to pairs whose
  channels fall in the same group (its input is reshaped ``c -> (g, i)`` and its output ``(g, j) -> d``
  in that order), so every group count shares one tensor with the others.
* Norms, skips, resampling, stem and head: per-channel vectors and channel matrices, sliced on
  their channel axes (a batch norm's running statistics alike, so a path reads and updates its own
  channels' statistics). ``state_blocks`` only seeds an initialisation and so selects nothing.

Execution. :meth:`Supernet.forward` runs the very module ``centaurus.networks.build(arch)`` would
return (kept as a weightless skeleton on the ``meta`` device) with the path's slices swapped in by
``torch.func.functional_call``; :meth:`Supernet.extract` builds that module for real and copies the
same slices in. The two run the same code on the same values, so their outputs are equal exactly,
and gradients reach the stored tensors through the slices.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from centaurus.errors import CentaurusConfigError
from centaurus.layer import SSMLayer
from centaurus.networks.build import build
from centaurus.networks.frontend import LogMelFrontend
from centaurus.networks.protocols import ArchitectureLike
from centaurus.post import PostLayer
from centaurus.supernet._space import (
    STAGE_FIELDS,
    SpaceLike,
    StageBounds,
    check_shareable,
    extreme_architecture,
    stage_bounds,
)

SUPERNET_FORMAT = 1
"""Version of the storage layout above; part of :meth:`Supernet.fingerprint`, so a checkpoint written under
another layout is refused rather than loaded into the wrong tensors."""

SKELETON_CACHE = 256
"""Weightless skeletons kept per supernet (least recently used dropped): building one costs milliseconds,
a step of a tiny network not much more."""

_CHOSEN_FIELDS = STAGE_FIELDS
"""Stage fields a path must take from the space's choices (the tensor sizes alone would not catch a norm or
an activation the space never offers)."""
_GROUP_TENSORS = frozenset({"a_re", "a_im", "log_dt", "E"})
_BLOCK = re.compile(
    r"^(?P<stage>(?:trunk\.stages|encoder|decoder)\.(?P<index>\d+))\.blocks\.(?P<block>\d+)"
    r"\.(?P<part>ssm|post\.norm)\.(?P<rest>.+)$"
)
_DOWNSAMPLE = re.compile(r"^(?P<stage>(?:trunk\.stages|encoder)\.(?P<index>\d+))\.downsample\.(?P<rest>.+)$")
_UPSAMPLE = re.compile(r"^upsamplers\.(?P<index>\d+)\.(?P<rest>.+)$")


def space_fingerprint(space: SpaceLike) -> str:
    """The identity of a space's supernet without building it: a hash of the space's canonical form and of
    :data:`SUPERNET_FORMAT` (16 hex digits). Checkpoints record it and refuse another."""
    canonical = json.dumps({"space": space.to_dict(), "format": SUPERNET_FORMAT}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


class _ElasticBlock(nn.Module):
    """Block position ``j`` of a stage: one SSM candidate per block type, one post-norm per (type, norm kind),
    and a 1x1 skip when the block's input width may differ from its output."""

    def __init__(self, bounds: StageBounds, in_channels: int, with_skip: bool) -> None:
        super().__init__()
        channels, states = bounds.channels, bounds.num_states
        candidates: dict[str, nn.Module] = {}
        for mode in bounds.modes:
            if mode == "group":  # stored in the full layout: every group count is a set of its diagonal blocks
                candidates[mode] = SSMLayer(in_channels, channels, states, "full")
            elif mode == "neck":
                candidates[mode] = SSMLayer(in_channels, channels, states, "neck", bottleneck=bounds.bottleneck)
            else:
                candidates[mode] = SSMLayer(in_channels, channels, states, mode)  # type: ignore[arg-type]
        self.ssm = nn.ModuleDict(candidates)
        self.post = nn.ModuleDict(
            {f"{mode}_{norm}": PostLayer(channels, norm, "none") for mode in bounds.modes for norm in bounds.norms}  # type: ignore[arg-type]
        )
        self.skip = nn.Conv1d(in_channels, channels, 1) if with_skip else None


class _ElasticStage(nn.Module):
    """A stage's block positions (the first ``depth`` are a path's) and one downsampling per stride > 1."""

    def __init__(self, bounds: StageBounds, in_channels: int, *, decoder: bool = False) -> None:
        super().__init__()
        blocks = []
        for position in range(bounds.depth):
            first = position == 0
            with_skip = first and not decoder and bounds.residual and bounds.may_resize
            blocks.append(_ElasticBlock(bounds, in_channels if first else bounds.channels, with_skip))
        self.blocks = nn.ModuleList(blocks)
        strides = [] if decoder else [s for s in bounds.strides if s > 1]
        self.downsample = nn.ModuleDict(
            {str(s): nn.Conv1d(bounds.channels, bounds.channels, s, stride=s) for s in strides}
        )


class _ElasticTrunk(nn.Module):
    """Frontend (shared, parameter-free), stem to the first stage's widest choice, and the elastic stages."""

    def __init__(self, space: SpaceLike, bounds: tuple[StageBounds, ...]) -> None:
        super().__init__()
        audio = space.input
        frontend = getattr(audio, "frontend", None)
        features = audio.channels
        self.frontend: LogMelFrontend | None = None
        if frontend is not None:
            self.frontend = LogMelFrontend(
                audio.channels, audio.sample_rate, frontend.mels, frontend.window, frontend.hop
            )
            features = audio.channels * frontend.mels
        self.stem = nn.Conv1d(features, bounds[0].channels, 1)
        self.stages = nn.ModuleList([_ElasticStage(b, b.in_channels) for b in bounds])


@dataclass
class _Path:
    """One architecture's skeleton and, per skeleton tensor, where its values come from."""

    skeleton: nn.Module
    sources: tuple[tuple[str, str, str, tuple[int, ...]], ...]
    """``(skeleton name, storage name, "slice" | "group" | "buffer", shape)``."""


class Supernet(nn.Module):
    """Weight-sharing network of a search space (see the module docstring for storage and slices).

    ``forward(x, arch)`` is the output of the path ``arch``; ``extract(arch)`` the stand-alone network of
    ``build(arch)`` with the path's weights. Raises :class:`~centaurus.supernet.UnshareableSpaceError`
    for a space whose architectures cannot share one supernet.
    """

    def __init__(self, space: SpaceLike) -> None:
        super().__init__()
        check_shareable(space)
        self.space = space
        self.task: str = space.task
        self.bounds = stage_bounds(space)
        bounds = self.bounds
        if self.task in ("kws", "asr"):
            self.trunk = _ElasticTrunk(space, bounds)
            last = bounds[-1].channels
            self.head: nn.Module = (
                nn.Sequential(nn.LayerNorm(last), nn.Linear(last, space.output.size))
                if self.task == "kws"
                else nn.Conv1d(last, space.output.size + 1, 1)  # the CTC blank is output 0
            )
        else:
            self._build_denoiser(space, bounds)
        self._paths: OrderedDict[object, _Path] = OrderedDict()

    def _build_denoiser(self, space: SpaceLike, bounds: tuple[StageBounds, ...]) -> None:
        """Encoder stages, one upsampler per (mirrored stage, stride), decoder stages reading their own width."""
        self.stem = nn.Conv1d(space.input.channels, bounds[0].channels, 1)
        self.encoder = nn.ModuleList([_ElasticStage(b, b.in_channels) for b in bounds])
        count = len(bounds)
        upsamplers, decoder = [], []
        for index in range(count - 2, -1, -1):
            stage, deeper = bounds[index], bounds[index + 1].channels
            choices: dict[str, nn.Module] = {}
            for s in stage.strides:
                if s > 1:
                    choices[str(s)] = nn.ConvTranspose1d(deeper, stage.channels, s, stride=s)
                else:
                    choices[str(s)] = nn.Conv1d(deeper, stage.channels, 1)
            upsamplers.append(nn.ModuleDict(choices))
            decoder.append(_ElasticStage(stage, stage.channels, decoder=True))
        self.upsamplers = nn.ModuleList(upsamplers)
        self.decoder = nn.ModuleList(decoder)
        head = nn.Conv1d(bounds[0].channels, space.output.size, 1)
        if space.input.channels == space.output.size:  # as the stand-alone U-Net: start as the identity
            nn.init.zeros_(head.weight)
            if head.bias is not None:
                nn.init.zeros_(head.bias)
        self.head = head

    def __getstate__(self) -> dict[str, object]:
        """Pickled (Ray's object store, ``copy.deepcopy``) without the skeleton cache: it is rebuilt on demand."""
        state = self.__dict__.copy()
        state["_paths"] = OrderedDict()
        return state

    # ------------------------------------------------------------------------------ identity
    def fingerprint(self) -> str:
        """A hash of the space and the storage layout: equal for supernets whose checkpoints fit each other
        (:func:`space_fingerprint` of its space)."""
        return space_fingerprint(self.space)

    # ------------------------------------------------------------------------------ paths
    def largest(self, block: str | None = None) -> ArchitectureLike:
        """The widest, deepest path with the block type of most weights per stage (the sandwich rule's top);
        ``block`` forces that block type wherever a stage offers it."""
        return self._checked(extreme_architecture(self.space, largest=True, block=block))

    def smallest(self, block: str | None = None) -> ArchitectureLike:
        """The narrowest, shallowest path with the block type of fewest weights per stage (the sandwich's bottom);
        ``block`` forces that block type wherever a stage offers it."""
        return self._checked(extreme_architecture(self.space, largest=False, block=block))

    def sample(self, rng: random.Random) -> ArchitectureLike:
        """A path drawn uniformly per choice by the space itself (so a valid architecture of the space)."""
        return self._checked(self.space.random(rng))

    def _checked(self, arch: ArchitectureLike) -> ArchitectureLike:
        validate = getattr(arch, "validate", None)
        if callable(validate):
            validate()
        self._path(arch)
        return arch

    def check_path(self, arch: ArchitectureLike) -> None:
        """Raise :class:`CentaurusConfigError` unless ``arch`` is a path of this supernet."""
        self._path(arch)

    def _path(self, arch: ArchitectureLike) -> _Path:
        key = _arch_key(arch)
        path = self._paths.get(key)
        if path is not None:
            self._paths.move_to_end(key)
            return path
        self._check_frame(arch)
        skeleton = _skeleton(arch)
        storage = self._storage()
        sources = []
        for name, tensor in skeleton.state_dict(keep_vars=True).items():
            source, kind = _source(arch, name)
            stored = storage.get(source)
            if stored is None:
                raise CentaurusConfigError(
                    f"arch: {_describe(name)} has no weights in this supernet (tensor {source!r});"
                    " allowed: an architecture of the supernet's space"
                )
            shape = tuple(tensor.shape)
            _check_fits(name, source, kind, shape, tuple(stored.shape))
            if not isinstance(tensor, nn.Parameter):
                kind = "buffer" if kind == "slice" else kind
            sources.append((name, source, kind, shape))
        path = _Path(skeleton, tuple(sources))
        self._paths[key] = path
        if len(self._paths) > SKELETON_CACHE:
            self._paths.popitem(last=False)
        return path

    def _check_frame(self, arch: ArchitectureLike) -> None:
        for field in ("task", "input", "output"):
            got, allowed = getattr(arch, field), getattr(self.space, field)
            if got != allowed:
                raise CentaurusConfigError(f"arch.{field}: got {got!r}; allowed: the supernet space's {allowed!r}")
        if len(arch.stages) != len(self.bounds):
            raise CentaurusConfigError(
                f"arch.stages: got {len(arch.stages)} stages; allowed: the space's {len(self.bounds)}"
            )
        for index, (stage, choices) in enumerate(zip(arch.stages, self.space.stages, strict=True)):
            for field in _CHOSEN_FIELDS:
                value = getattr(stage, field, None)
                if value is None and field in ("groups", "bottleneck_ratio", "state_blocks"):
                    continue  # conditional fields of other blocks
                allowed = tuple(getattr(choices, field))
                if value not in allowed:
                    raise CentaurusConfigError(
                        f"arch.stages[{index}].{field}: got {value!r}; allowed: the space's choices {allowed!r}"
                    )

    def _storage(self) -> dict[str, torch.Tensor]:
        tensors: dict[str, torch.Tensor] = dict(self.named_parameters())
        tensors.update(dict(self.named_buffers()))
        return tensors

    def path_tensors(self, arch: ArchitectureLike) -> dict[str, torch.Tensor]:
        """Every parameter and buffer of ``build(arch)``, by its name there, as the slice of this supernet's
        storage it inherits (differentiable; buffers are views, so batch-norm updates land in the storage)."""
        path = self._path(arch)
        storage = self._storage()
        return {name: _take(storage[source], kind, shape) for name, source, kind, shape in path.sources}

    # ------------------------------------------------------------------------------ running
    def forward(self, x: torch.Tensor, arch: ArchitectureLike) -> torch.Tensor:
        """The output of the path ``arch`` (train or eval behaviour as this module's mode)."""
        path = self._path(arch)
        path.skeleton.train(self.training)
        return functional_call(path.skeleton, self.path_tensors(arch), (x,), strict=True)

    def extract(self, arch: ArchitectureLike) -> nn.Module:
        """The module ``centaurus.networks.build(arch)`` returns, with this supernet's weights for that path
        (copies, on this supernet's device and dtype), in training mode as ``build`` leaves it."""
        tensors = {name: tensor.detach().clone() for name, tensor in self.path_tensors(arch).items()}
        reference = next(iter(self.parameters()))
        with torch.random.fork_rng(devices=[]):  # build's random initialisation is overwritten: leave no trace
            module = build(arch)
        module.to(device=reference.device, dtype=reference.dtype)
        module.load_state_dict(tensors, strict=True)
        return module

    def paths(self, archs: Iterable[ArchitectureLike]) -> list[ArchitectureLike]:
        """``archs``, each checked to be a path of this supernet (a clear error for the first that is not)."""
        return [self._checked(arch) for arch in archs]


def _skeleton(arch: ArchitectureLike) -> nn.Module:
    """``build(arch)`` with its tensors moved to the ``meta`` device: the module's code and shapes without memory.

    Built on the CPU first (the log-mel frontend computes its filterbank with data-dependent checks that
    ``meta`` tensors cannot run), under a forked generator so that building it draws nothing from the
    global one (a training run's random stream must not depend on which skeletons were cached)."""
    with torch.random.fork_rng(devices=[]):
        module = build(arch)
    return module.to(device="meta")


def _arch_key(arch: ArchitectureLike) -> object:
    try:
        hash(arch)
        return arch
    except TypeError:
        return repr(arch)


def _stage_of(arch: ArchitectureLike, group: str, index: int) -> object:
    """The spec of the stage a module belongs to: decoder and upsampler ``p`` mirror stage ``count - 2 - p``."""
    stages = list(arch.stages)
    if group in ("decoder", "upsamplers"):
        return stages[len(stages) - 2 - index]
    return stages[index]


def _source(arch: ArchitectureLike, name: str) -> tuple[str, str]:
    """Where skeleton tensor ``name`` lives in the supernet, and how it is taken (``slice`` or ``group``)."""
    match = _BLOCK.match(name)
    if match:
        stage = _stage_of(arch, match["stage"].split(".")[-2], int(match["index"]))
        mode = stage.block  # type: ignore[attr-defined]
        prefix = f"{match['stage']}.blocks.{match['block']}"
        if match["part"] == "ssm":
            kind = "group" if mode == "group" and match["rest"] in _GROUP_TENSORS else "slice"
            return f"{prefix}.ssm.{mode}.{match['rest']}", kind
        return f"{prefix}.post.{mode}_{stage.norm}.norm.{match['rest']}", "slice"  # type: ignore[attr-defined]
    match = _DOWNSAMPLE.match(name)
    if match:
        stage = _stage_of(arch, match["stage"].split(".")[-2], int(match["index"]))
        return f"{match['stage']}.downsample.{stage.stride}.{match['rest']}", "slice"  # type: ignore[attr-defined]
    match = _UPSAMPLE.match(name)
    if match:
        stage = _stage_of(arch, "upsamplers", int(match["index"]))
        return f"upsamplers.{match['index']}.{stage.stride}.{match['rest']}", "slice"  # type: ignore[attr-defined]
    return name, "slice"


def _needed(kind: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The leading extent of the stored tensor a path tensor of ``shape`` reads."""
    if kind == "group":
        g, j, i = shape[0], shape[1], shape[2]
        return (g * j, g * i, *shape[3:])
    return shape


def _check_fits(name: str, source: str, kind: str, shape: tuple[int, ...], stored: tuple[int, ...]) -> None:
    needed = _needed(kind, shape)
    if len(needed) != len(stored) or any(n > s for n, s in zip(needed, stored, strict=True)):
        raise CentaurusConfigError(
            f"arch: {_describe(name)} needs {needed} of tensor {source!r}, which holds {stored};"
            " allowed: sizes within the supernet space's choices"
        )


def _describe(name: str) -> str:
    """A tensor's name, led by the spec stage it belongs to where that is plain (``stages[1] (trunk...)``)."""
    match = re.match(r"^(?:trunk\.stages|encoder)\.(\d+)\.", name)
    if match:
        return f"stages[{match[1]}] ({name})"
    return name


def _take(stored: torch.Tensor, kind: str, shape: tuple[int, ...]) -> torch.Tensor:
    """The path's tensor of ``shape`` from ``stored``: a leading slice, or a group's diagonal blocks.

    Parameters are made contiguous (a differentiable copy) so that the supernet and the extracted network
    hand identical memory layouts to the same kernels, which makes their outputs equal bit for bit; buffers
    stay views, so batch-norm statistics a path updates in training are the supernet's own.
    """
    if kind == "group":
        g, j, i = shape[0], shape[1], shape[2]
        rest = shape[3:]
        block = stored[(slice(0, g * j), slice(0, g * i), *(slice(0, s) for s in rest))]
        block = block.reshape(g, j, g, i, *rest)
        return torch.diagonal(block, dim1=0, dim2=2).movedim(-1, 0).contiguous()
    view = stored[tuple(slice(0, s) for s in shape)]
    return view if kind == "buffer" else view.contiguous()
