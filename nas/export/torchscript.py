"""TorchScript export: a trace of the eval-mode network at one input length, behind a scripted shape guard.

``torch.jit.script`` cannot compile the networks (plans are Python objects chosen per shape, the
executor walks a step list, streams are dicts keyed by modules), so the network is traced under
:func:`nas.export._inference.traceable_inference`. A trace records the contraction plan and FFT
length chosen for the traced length, so the saved module accepts exactly that length (any batch
size; the batch axis stays dynamic). A scripted wrapper checks the shape and raises a clear error
instead of a shape mismatch deep inside the graph.

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

from nas.export._inference import traceable_inference


class _ShapeGuard(nn.Module):
    """Rejects inputs the trace was not recorded for, naming the shape it accepts."""

    def __init__(self, core: nn.Module, channels: int, length: int) -> None:
        super().__init__()
        self.core = core
        self.channels = channels
        self.length = length

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        if audio.dim() != 3 or audio.size(1) != self.channels or audio.size(2) != self.length:
            raise RuntimeError(
                f"audio: got shape {list(audio.shape)}; allowed: (batch, {self.channels}, {self.length}): this"
                " TorchScript module was traced at that length (use nas.export.load_export for other lengths,"
                " or export again with --length)"
            )
        return self.core(audio)


@dataclass(frozen=True)
class TorchScriptOutcome:
    """What the TorchScript export did: the file (None on failure), the traced shape and the check results."""

    path: Path | None
    batch: int
    channels: int
    length: int
    exact: bool = False
    max_abs_diff: float | None = None
    other_batch_max_abs_diff: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.path is not None

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


def export_torchscript(
    model: nn.Module, path: Path, *, channels: int, length: int, batch: int = 1
) -> TorchScriptOutcome:
    """Trace ``model`` (put in eval mode) at ``(batch, channels, length)``, save it to ``path``, reload and check it.

    Failures are returned, not raised: the caller reports them next to the other artifacts.
    """
    model.eval()
    try:
        with _quiet(), torch.no_grad():
            with traceable_inference():
                traced = torch.jit.trace(model, _example(batch, channels, length, seed=0), check_trace=False)
                scripted = torch.jit.script(_ShapeGuard(traced, channels, length))
                torch.jit.save(scripted, str(path))
            loaded = load_script(path)
            probe = _example(batch, channels, length, seed=1)
            expected, got = model(probe), loaded(probe)
            other = _example(batch + 1, channels, length, seed=2)
            other_diff = float((model(other) - loaded(other)).abs().max())
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
        other_batch_max_abs_diff=other_diff,
    )
