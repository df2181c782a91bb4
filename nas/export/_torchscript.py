"""TorchScript export: a trace of the eval-mode network at one input length, behind a scripted shape guard.

``torch.jit.script`` cannot compile the networks (plans are Python objects chosen per shape, the
executor walks a step list, streams are dicts keyed by modules), so the network is traced with
:data:`centaurus.TRACE_POLICY` set on it (the custom autograd Functions run as the same plain operations
in the same order; a Python Function cannot be serialised). A trace records the contraction plan and FFT
length chosen for the traced length, so the saved module accepts exactly that length. It also
records Python branches on sizes: the executor runs a batch-1 projection as one ``mm`` of a reshaped
operand, so a trace at batch 1 may hold batch-1 reshapes. The exporter therefore runs the trace at
another batch size: where it fails or disagrees with eager, the module accepts the traced batch only,
and says so (``any_batch``). A scripted wrapper checks the shape and raises instead of a shape
mismatch deep inside the graph.

TorchScript's interpreter wraps any error in a 20-line traceback of the serialised code, so
:func:`nas.export.load_torchscript` returns a thin :class:`TorchScriptModel` that checks the input shape
in Python first and raises a one-line :class:`~nas.export._errors.ExportError`; the ScriptModule itself
(for C++, or ``torch.jit.save``) is its ``script`` attribute.

The trace runs the same aten operations in the same order as the eager network, so its output at the
traced shape is bit-for-bit equal; the exporter checks this on a fresh input after reloading the file.
At another batch size the trace still runs the plan chosen for the traced batch, which may differ
from the plan eager would choose there: equal up to float32 rounding.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from centaurus import TRACE_POLICY, execution_policy
from nas.export._errors import ExportError

ANY_BATCH = -1
"""The guard's ``batch`` when the trace runs at any batch size."""
_OTHER_BATCH_TOLERANCE = 1e-4
"""Largest ``max |trace - eager| / max |eager|`` at another batch size for the trace to count as batch-free
(another batch may take another plan: float32 rounding apart, the outputs agree to ~1e-6)."""


def shape_error(shape: tuple[int, ...], batch: int, channels: int, length: int) -> str | None:
    """Why a trace recorded at ``(batch or any, channels, length)`` cannot take ``shape`` (one line); None if it can."""
    wanted = f"({'batch' if batch == ANY_BATCH else batch}, {channels}, {length})"
    if len(shape) == 3 and shape[1:] == (channels, length) and batch in (ANY_BATCH, shape[0]):
        return None
    got = f"audio: got shape ({', '.join(str(size) for size in shape)}); allowed: {wanted}"
    if len(shape) == 3 and shape[1:] == (channels, length):
        return f"{got}: this TorchScript module was traced at batch {batch} only (load_export takes any batch)"
    return (
        f"{got}: this TorchScript module was traced at length {length} (load_export takes any length that is"
        " a multiple of the total stride, or export again with --length)"
    )


class _ShapeGuard(nn.Module):
    """Rejects inputs the trace was not recorded for, naming the shape it accepts (inside TorchScript, for users
    of the bare module; :class:`TorchScriptModel` checks the same in Python first)."""

    def __init__(self, core: nn.Module, batch: int, channels: int, length: int) -> None:
        super().__init__()
        self.core = core
        self.batch = batch
        self.channels = channels
        self.length = length

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        batch_ok = self.batch == -1 or audio.size(0) == self.batch
        if audio.dim() != 3 or audio.size(1) != self.channels or audio.size(2) != self.length or not batch_ok:
            allowed = "batch" if self.batch == -1 else str(self.batch)
            raise RuntimeError(
                f"audio: got shape {list(audio.shape)}; allowed: ({allowed}, {self.channels}, {self.length}): this"
                " TorchScript module was traced at that shape (use nas.export.load_export for other shapes,"
                " or export again with --length/--batch)"
            )
        return self.core(audio)


class TorchScriptModel(nn.Module):
    """An exported TorchScript module that checks its input's shape in Python, so a wrong shape is a one-line
    :class:`ExportError` instead of the interpreter's traceback. ``script`` is the ScriptModule itself."""

    def __init__(self, script: torch.jit.ScriptModule) -> None:
        super().__init__()
        self.script = script
        self.batch = int(script.batch) if hasattr(script, "batch") else ANY_BATCH  # exports before the batch check
        self.channels, self.length = int(script.channels), int(script.length)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        problem = shape_error(tuple(audio.shape), self.batch, self.channels, self.length)
        if problem is not None:
            raise ExportError(problem)
        return self.script(audio)


@dataclass(frozen=True)
class TorchScriptOutcome:
    """What the TorchScript export did: the file (None on failure), the traced shape and the check results."""

    path: Path | None
    batch: int
    channels: int
    length: int
    exact: bool = False
    max_abs_diff: float | None = None
    any_batch: bool = False
    other_batch_max_abs_diff: float | None = None
    """At ``batch + 1``; None when the trace does not run there."""
    other_batch_error: str | None = None
    """Why the trace is held to its batch (one line), when it is."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def short_error(self) -> str | None:
        """The failure in one line: for an error raised inside TorchScript, its last line (the cause) rather than
        the interpreter's traceback of the serialised code."""
        return one_line(self.error) if self.error else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = self.path.name if self.path is not None else None
        return data


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the tracer's expected warnings: shape-to-int conversions (the length is fixed on purpose) and
    the FutureWarning that ``torch.jit`` is deprecated in favour of ``torch.export``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
        yield


def load_script(path: str | Path) -> torch.jit.ScriptModule:
    """``torch.jit.load`` on the CPU without the deprecation warning (the format is what we ship, deprecated or not)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
        return torch.jit.load(str(path), map_location="cpu")


def _example(batch: int, channels: int, length: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, channels, length, generator=generator)


def one_line(error: str) -> str:
    """An error message in one line: the interpreter's ``The following operation failed ...`` traceback is
    reduced to its last line, which names the cause."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    if "The following operation failed in the TorchScript interpreter" in lines[0]:
        return lines[-1]  # e.g. "RuntimeError: shape '[8, 16000]' is invalid for input of size 256000"
    return lines[0]


def _other_batch(traced: nn.Module, model: nn.Module, shape: tuple[int, int, int]) -> tuple[float | None, str | None]:
    """Run the trace at ``shape`` (another batch size than traced) against eager: the relative difference, or
    why it does not run there."""
    probe = _example(*shape, seed=2)
    try:
        got, expected = traced(probe), model(probe)
    except Exception as error:  # the trace holds batch-specific sizes: it is limited to its batch
        return None, f"at batch {shape[0]} the trace fails: {one_line(f'{type(error).__name__}: {error}')}"
    relative = float((got - expected).abs().max()) / max(float(expected.abs().max()), 1e-30)
    if relative > _OTHER_BATCH_TOLERANCE:
        return relative, f"at batch {shape[0]} the trace differs from eager by {relative:.2g} x output scale"
    return relative, None


def export_torchscript(
    model: nn.Module, path: Path, *, channels: int, length: int, batch: int = 1
) -> TorchScriptOutcome:
    """Trace ``model`` (put in eval mode) at ``(batch, channels, length)``, save it to ``path``, reload and check it.

    The saved module takes any batch size if the trace runs at ``batch + 1`` and agrees with eager there,
    else only ``batch``. Failures are returned, not raised: the caller reports them next to the other artifacts.
    """
    model.eval()
    try:
        with _quiet(), torch.no_grad():
            with execution_policy(model, TRACE_POLICY):
                traced = torch.jit.trace(model, _example(batch, channels, length, seed=0), check_trace=False)
            other, held = _other_batch(traced, model, (batch + 1, channels, length))
            guard_batch = ANY_BATCH if held is None else batch
            with execution_policy(model, TRACE_POLICY):
                scripted = torch.jit.script(_ShapeGuard(traced, guard_batch, channels, length))
                torch.jit.save(scripted, str(path))
            loaded = load_script(path)
            probe = _example(batch, channels, length, seed=1)
            expected, got = model(probe), loaded(probe)
    except Exception as error:  # reported in the card and the command output, never hidden
        path.unlink(missing_ok=True)
        return TorchScriptOutcome(None, batch, channels, length, error=f"{type(error).__name__}: {error}")
    return TorchScriptOutcome(
        path,
        batch,
        channels,
        length,
        exact=bool(torch.equal(expected, got)),
        max_abs_diff=float((expected - got).abs().max()),
        any_batch=held is None,
        other_batch_max_abs_diff=other if held is None else None,
        other_batch_error=held,
    )
