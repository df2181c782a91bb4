"""ONNX export: try the exporters in turn, keep the first model that exports, and say exactly what failed.

The networks' time mixing is an FFT convolution with complex spectra, which is where ONNX export
breaks (measured with torch 2.14, onnxscript 0.7, onnxruntime 1.32):

1. the TorchScript-based exporter (``dynamo=False``) has no ONNX symbolic for ``aten::fft_rfft``
   (without the tracing shim it fails even earlier, inside the custom ``autograd.Function``);
2. the dynamo exporter gets through ``torch.export``, the custom Functions and the FFTs (ONNX ``DFT``),
   but has no translation for an einsum between two complex tensors;
3. the dynamo exporter with the export-time rewrites of :func:`nas.export._inference.onnx_friendly_spectra`
   exports the whole network.

Every attempt is recorded with its exact error. The model is exported at a static shape (batch and
length fixed: plans and FFT lengths are chosen per shape in Python). When ``onnx`` and ``onnxruntime``
are installed, the file is checked with ``onnx.checker`` and its output compared with the eager network's.
It cannot be bit-exact (other FFT lengths, real arithmetic for complex products, other kernels), so the
comparison uses a float32 tolerance relative to the output's scale.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nas.export._inference import ONNX_REWRITES, onnx_friendly_spectra, traceable_inference

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
RELATIVE_TOLERANCE = 1e-4
"""Largest accepted ``max |onnxruntime - eager| / max |eager|`` (float32 FFT convolutions agree to ~1e-6)."""


@dataclass(frozen=True)
class OnnxAttempt:
    """One exporter tried: which, whether it produced a model, and its error (first lines of the summary)."""

    exporter: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class OnnxOutcome:
    """What the ONNX export did: the file (None if no exporter worked), every attempt, and the check."""

    path: Path | None
    batch: int
    channels: int
    length: int
    attempts: tuple[OnnxAttempt, ...] = ()
    rewrites: tuple[str, ...] = ()
    opset: int | None = None
    checked: str = "not checked"
    max_abs_diff: float | None = None
    output_scale: float | None = None
    skipped: str | None = None
    extra_files: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def verified(self) -> bool:
        """True when onnxruntime ran the file and agreed with the eager network within the tolerance."""
        if self.max_abs_diff is None or self.output_scale is None:
            return False
        return self.max_abs_diff <= RELATIVE_TOLERANCE * max(self.output_scale, 1e-12)

    def headline(self) -> str:
        """One line for the command output and the index."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if not self.ok:
            return "not exported: " + "; ".join(f"{a.exporter}: {_first_line(a.error)}" for a in self.attempts)
        how = next(a.exporter for a in self.attempts if a.ok)
        return f"exported with {how}; {self.check_summary()}"

    def failures(self) -> list[str]:
        """``exporter: first line of its error`` for every attempt that failed (even if a later one worked)."""
        return [f"{a.exporter}: {_first_line(a.error)}" for a in self.attempts if not a.ok]

    def check_summary(self) -> str:
        """How the exported file was checked, with the measured difference from the eager network if any."""
        if self.max_abs_diff is None or self.output_scale is None:
            return self.checked
        verdict = "within" if self.verified else "OUTSIDE"
        return (
            f"onnxruntime vs eager: max |diff| {self.max_abs_diff:.2g} at output scale {self.output_scale:.2g}"
            f" ({verdict} the float32 tolerance)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path.name if self.path is not None else None,
            "batch": self.batch,
            "channels": self.channels,
            "length": self.length,
            "attempts": [{"exporter": a.exporter, "ok": a.ok, "error": a.error} for a in self.attempts],
            "rewrites": list(self.rewrites),
            "opset": self.opset,
            "checked": self.checked,
            "max_abs_diff": self.max_abs_diff,
            "output_scale": self.output_scale,
            "verified": self.verified,
            "skipped": self.skipped,
            "extra_files": list(self.extra_files),
        }

    def report(self) -> str:
        """The text of ``onnx.txt``: what exported, what did not and why, and how the file was checked."""
        lines = [
            f"ONNX export at a static input shape (batch {self.batch}, channels {self.channels}, length {self.length})"
        ]
        if self.skipped:
            return "\n".join([*lines, f"skipped: {self.skipped}", ""])
        lines += ["", "Attempts, in order:"]
        for attempt in self.attempts:
            lines.append(f"- {attempt.exporter}: {'exported' if attempt.ok else 'FAILED'}")
            if attempt.error:
                lines += [f"    {line}" for line in attempt.error.splitlines()]
        if self.ok:
            lines += ["", f"Result: {self.path.name if self.path else ''} (opset {self.opset})"]
            if self.rewrites:
                lines.append("Export-time rewrites (exact in exact arithmetic; the eager network is unchanged):")
                lines += [f"- {rewrite}" for rewrite in self.rewrites]
            measured = f"; {self.check_summary()}" if self.max_abs_diff is not None else ""
            lines.append(f"Check: {self.checked}{measured}")
            if self.max_abs_diff is not None:
                lines.append(
                    "Not bit-exact by construction (other FFT lengths, real arithmetic for complex products,"
                    f" onnxruntime kernels); accepted when max |diff| <= {RELATIVE_TOLERANCE:g} x output scale:"
                    f" {'yes' if self.verified else 'NO'}"
                )
            lines.append("The shape is static: plans and FFT lengths are chosen per shape in Python.")
        else:
            lines += ["", "Result: no ONNX model; the errors above name the operators that block it. Every part of"]
            lines.append("the network but the SSM layers' FFT convolutions (1x1 convolutions, resampling, norms,")
            lines.append("activations, heads) maps to standard ONNX operators.")
        return "\n".join([*lines, ""])


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else "unknown error"


def _summarise(error: BaseException) -> str:
    """The useful part of an exporter error: the dynamo exporter's "Exception summary", else the message."""
    text = _ANSI.sub("", str(error)).strip()
    if "## Exception summary" in text:
        text = text.split("## Exception summary", 1)[1]
        text = text.split("(Refer to the full stack trace", 1)[0]
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip() and line.strip() != "⬆️"]
    summary = "\n".join(lines[:12])
    return f"{type(error).__name__}: {summary}"[:3000]


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporters print progress and, on failure, the whole TorchScript graph (from C++, straight to file
    descriptor 1) and log missing optional packages (torchvision): keep all of it out of the command's output.
    Their exceptions still propagate, and are what the report records."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as sink, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            warnings.simplefilter("ignore")
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in saved:
            os.close(descriptor)
        logger.setLevel(level)


def _missing(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return True
    return False


def _export(model: nn.Module, example: torch.Tensor, path: Path, *, dynamo: bool, output: str) -> None:
    with _quiet_exporter(), torch.no_grad():
        if dynamo:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                external_data=False,  # one self-contained file (the graphs here are far below protobuf's 2 GiB)
                input_names=["audio"],
                output_names=[output],
                verbose=False,
            )
        else:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                opset_version=18,
                input_names=["audio"],
                output_names=[output],
            )


def export_onnx(
    model: nn.Module, path: Path, *, channels: int, length: int, batch: int = 1, output: str = "output"
) -> OnnxOutcome:
    """Export eval-mode ``model`` at ``(batch, channels, length)`` to ``path``; never raises for exporter errors."""
    model.eval()
    shape = {"batch": batch, "channels": channels, "length": length}
    if _missing("onnx"):
        return OnnxOutcome(None, **shape, skipped="the package onnx is not installed (pip install onnx onnxscript)")
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(batch, channels, length, generator=generator)
    attempts: list[OnnxAttempt] = []
    exported, rewrites = False, ()
    try:
        with traceable_inference():
            _export(model, example, path, dynamo=False, output=output)
        attempts.append(OnnxAttempt("TorchScript-based exporter (dynamo=False, opset 18)", True))
        exported = True
    except Exception as error:
        attempts.append(OnnxAttempt("TorchScript-based exporter (dynamo=False, opset 18)", False, _summarise(error)))
    if not exported and _missing("onnxscript"):
        attempts.append(OnnxAttempt("dynamo exporter", False, "not tried: the package onnxscript is not installed"))
    elif not exported:
        try:
            _export(model, example, path, dynamo=True, output=output)
            attempts.append(OnnxAttempt("dynamo exporter (dynamo=True)", True))
            exported = True
        except Exception as error:
            attempts.append(OnnxAttempt("dynamo exporter (dynamo=True)", False, _summarise(error)))
        if not exported:
            try:
                with onnx_friendly_spectra():
                    _export(model, example, path, dynamo=True, output=output)
                attempts.append(OnnxAttempt("dynamo exporter with export-time rewrites", True))
                exported, rewrites = True, ONNX_REWRITES
            except Exception as error:
                attempts.append(OnnxAttempt("dynamo exporter with export-time rewrites", False, _summarise(error)))
    siblings = tuple(sorted(p.name for p in path.parent.glob(f"{path.name}.*")))  # external data, if any
    if not exported:
        path.unlink(missing_ok=True)
        return OnnxOutcome(None, **shape, attempts=tuple(attempts))
    return _check(OnnxOutcome(path, **shape, attempts=tuple(attempts), rewrites=rewrites, extra_files=siblings), model)


def _check(outcome: OnnxOutcome, model: nn.Module) -> OnnxOutcome:
    """``onnx.checker``, then onnxruntime against the eager network on a fresh input (when installed)."""
    import onnx

    assert outcome.path is not None
    proto = onnx.load(str(outcome.path))
    onnx.checker.check_model(proto)
    opset = next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), None)
    if _missing("onnxruntime"):
        note = "onnx.checker passed; not run (onnxruntime is not installed)"
        return replace(outcome, opset=opset, checked=note)
    import onnxruntime

    generator = torch.Generator().manual_seed(1)
    probe = torch.randn(outcome.batch, outcome.channels, outcome.length, generator=generator)
    with torch.no_grad():
        expected = model(probe)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(outcome.path), options, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: probe.numpy()})
    diff = float((torch.from_numpy(got) - expected).abs().max())
    note = "onnx.checker passed; onnxruntime run"
    return replace(outcome, opset=opset, checked=note, max_abs_diff=diff, output_scale=float(expected.abs().max()))
