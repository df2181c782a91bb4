"""ONNX export: try the exporters in turn, keep the first model that exports, and say what failed.

The networks' time mixing is an FFT convolution with complex spectra, which is where ONNX export
breaks or loses precision (measured with torch 2.14, onnxscript 0.7, onnxruntime 1.32), so the
exporters are tried in this order:

1. the dynamo exporter with the network under :data:`centaurus.ONNX_POLICY` (complex products as real
   einsums, power-of-two FFTs, the log-mel frontend's DFT as a matmul, plain autograd; see
   :data:`ONNX_REWRITES` for why each): the only one whose model agrees with PyTorch within the float32
   tolerance on real clips;
2. the plain dynamo exporter: it gets through ``torch.export``, the custom Functions and the FFTs
   (ONNX ``DFT``), but has no translation for an einsum between two complex tensors, and where it
   succeeds onnxruntime's float32 DFT at other lengths than powers of two costs up to 4e-4 of the
   output scale on real clips;
3. the TorchScript-based exporter (``dynamo=False``, under :data:`centaurus.TRACE_POLICY`): it has no ONNX
   symbolic for ``aten::fft_rfft`` (or ``unfold`` with a dynamic size, for the log-mel frontend).

The policy is set on the exported network for the export only (:func:`centaurus.execution_policy`), so
nothing else runs differently meanwhile and nothing in ``centaurus`` is patched.

Every attempt is recorded with its error (``onnx.txt``, ``export.json``); the command line and the model
card give one line per exporter that failed before one succeeded. The model is exported at a static
shape (batch and length fixed: plans and FFT lengths are chosen per shape in Python). When ``onnx`` and
``onnxruntime`` are installed, the file is checked with ``onnx.checker`` and its output compared with
the eager network's on several realistic inputs (:mod:`nas.export._probes`: speech-like audio down to
-66 dBFS, noise, silence). It cannot be bit-exact (other FFT lengths, real arithmetic for complex
products, other kernels), so each input's difference is measured relative to the output's scale.
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

from centaurus import ONNX_POLICY, TRACE_POLICY, ExecutionPolicy, execution_policy
from nas.export._probes import SPEECH_LEVELS_DBFS, check_inputs

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.+@~-]+){2,}[\\/]?")
_NOISE = (" Please feel free", " [Caused by", " (node defined in", " For more information", " Refer to")
RELATIVE_TOLERANCE = 1e-4
"""Largest accepted ``max |onnxruntime - eager| / max |eager|`` on every check input. With the rewrites the
exported networks agree to about 3e-6 (the float32 rounding of eager PyTorch itself is ~2e-6 against
float64), so 1e-4 leaves a wide margin for other onnxruntime builds while still catching the 4e-4 that
a 400-point float32 DFT costs."""
REWRITTEN = "dynamo exporter with export-time rewrites"
DYNAMO = "dynamo exporter (dynamo=True)"
TORCHSCRIPT_BASED = "TorchScript-based exporter (dynamo=False, opset 18)"
_POLICIES: dict[str, ExecutionPolicy | None] = {REWRITTEN: ONNX_POLICY, DYNAMO: None, TORCHSCRIPT_BASED: TRACE_POLICY}
"""The execution policy each exporter runs the network under (None: the network's own)."""

ONNX_REWRITES: tuple[str, ...] = (
    "complex x complex einsums (kernel spectrum times signal spectrum) written as four real einsums:"
    " ONNX has no complex einsum",
    "every SSM FFT padded to the next power of two >= 2L (exact for a causal convolution): onnxruntime's float32"
    " DFT is accurate only for power-of-two lengths",
    "the log-mel frontend's per-frame DFT (window points, not a power of two) as a matmul with cos/sin tables:"
    " onnxruntime's float32 DFT at 400 points cost up to 4e-4 of the output scale",
)
"""What :data:`centaurus.ONNX_POLICY` changes in the exported graph, and why (the model card lists these).

Measured: onnxruntime's float32 DFT loses about three digits at FFT lengths that are not powers of two
(on a convolution with outputs of magnitude ~3: max error 3e-3 at N = 16000, 4e-6 at N = 16384). The
log-mel frontend's per-frame DFT has the window's length (400 points by default), which cannot be padded:
it is an STFT, not a convolution. On the 91 test clips of the quick-start corpus it alone made exported
keyword spotters miss the float32 tolerance (up to 4e-4 of the output scale; 2.7e-5 once it was a matmul,
2.9e-6 with the SSM FFTs padded too). All three are exact in exact arithmetic: a causal convolution
computed by FFT is the same for any FFT length >= 2L - 1, and a DFT is a matrix."""


@dataclass(frozen=True)
class OnnxAttempt:
    """One exporter tried: which, whether it produced a model, and its error (first lines of the summary)."""

    exporter: str
    ok: bool
    error: str | None = None

    @property
    def reason(self) -> str:
        """The error in one short line without local paths: what the console and the model card show."""
        return short_reason(self.error)


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
    probes: tuple[tuple[str, float], ...] = ()
    """``(input, max |diff| / output scale)`` for every check input; the worst sets the two fields above."""
    skipped: str | None = None
    extra_files: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def verified(self) -> bool:
        """True when onnxruntime ran the file and agreed with the eager network within the tolerance on every
        check input."""
        if self.max_abs_diff is None or self.output_scale is None:
            return False
        return all(relative <= RELATIVE_TOLERANCE for _, relative in self.probes) and bool(self.probes)

    @property
    def worst_probe(self) -> tuple[str, float] | None:
        return max(self.probes, key=lambda probe: probe[1]) if self.probes else None

    def headline(self) -> str:
        """One line for the command output and the index."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if not self.ok:
            return "not exported: " + "; ".join(f"{a.exporter}: {a.reason}" for a in self.attempts)
        how = next(a.exporter for a in self.attempts if a.ok)
        return f"exported with {how}; {self.check_summary()}"

    def failures(self) -> list[str]:
        """``exporter: short reason`` for every attempt that failed (even if a later one worked), one line each."""
        return [f"{a.exporter}: {a.reason}" for a in self.attempts if not a.ok]

    def check_summary(self) -> str:
        """How the exported file was checked, with the worst measured difference from the eager network if any."""
        worst = self.worst_probe
        if worst is None:
            return self.checked
        verdict = "within" if self.verified else "OUTSIDE"
        return (
            f"onnxruntime vs eager on {len(self.probes)} inputs (speech-like down to"
            f" {min(SPEECH_LEVELS_DBFS):g} dBFS, noise, silence): worst max |diff| {worst[1]:.2g} x output scale"
            f" ({worst[0]}; {verdict} the tolerance {RELATIVE_TOLERANCE:g})"
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
            "probes": [{"input": name, "relative_diff": relative} for name, relative in self.probes],
            "tolerance": RELATIVE_TOLERANCE,
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
            lines.append(f"Check: {self.checked}")
            for name, relative in self.probes:
                lines.append(f"- {name}: max |diff| {relative:.2g} x output scale")
            if self.probes:
                lines.append(
                    "Not bit-exact by construction (other FFT lengths, real arithmetic for complex products,"
                    f" onnxruntime kernels); accepted when max |diff| <= {RELATIVE_TOLERANCE:g} x output scale on"
                    f" every input: {'yes' if self.verified else 'NO'}"
                )
            lines.append("The shape is static: plans and FFT lengths are chosen per shape in Python.")
        else:
            lines += ["", "Result: no ONNX model; the errors above name the operators that block it. Every part of"]
            lines.append("the network but the SSM layers' FFT convolutions (1x1 convolutions, resampling, norms,")
            lines.append("activations, heads) maps to standard ONNX operators.")
        return "\n".join([*lines, ""])


def short_reason(error: str | None, limit: int = 160) -> str:
    """The first line of an exporter error, without local paths (file names only) or the exporters'
    boilerplate ("Please feel free to request support ...", "[Caused by the value ...]"), at most ``limit``
    characters."""
    lines = (error or "").strip().splitlines()
    line = lines[0] if lines else "unknown error"
    for noise in _NOISE:
        line = line.split(noise, 1)[0]
    line = _PATH.sub(lambda match: match.group(0).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1], line)
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


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


def _attempt(name: str, model: nn.Module, example: torch.Tensor, path: Path, output: str) -> OnnxAttempt:
    """Run one exporter; its exception becomes the attempt's error (summarised), never the caller's."""
    dynamo = name != TORCHSCRIPT_BASED
    policy = _POLICIES[name]
    try:
        with contextlib.nullcontext() if policy is None else execution_policy(model, policy):
            _export(model, example, path, dynamo=dynamo, output=output)
    except Exception as error:
        return OnnxAttempt(name, False, _summarise(error))
    return OnnxAttempt(name, True)


def export_onnx(
    model: nn.Module,
    path: Path,
    *,
    channels: int,
    length: int,
    batch: int = 1,
    output: str = "output",
    sample_rate: int = 16000,
) -> OnnxOutcome:
    """Export eval-mode ``model`` at ``(batch, channels, length)`` to ``path``; never raises for exporter errors."""
    model.eval()
    if _missing("onnx"):
        return OnnxOutcome(
            None, batch, channels, length, skipped="the package onnx is not installed (pip install onnx onnxscript)"
        )
    example = torch.randn(batch, channels, length, generator=torch.Generator().manual_seed(0))
    attempts: list[OnnxAttempt] = []
    exporters: tuple[str, ...] = (REWRITTEN, DYNAMO, TORCHSCRIPT_BASED)
    if _missing("onnxscript"):
        attempts.append(OnnxAttempt("dynamo exporters", False, "not tried: the package onnxscript is not installed"))
        exporters = (TORCHSCRIPT_BASED,)
    for name in exporters:
        attempts.append(_attempt(name, model, example, path, output))
        if attempts[-1].ok:
            break
    siblings = tuple(sorted(p.name for p in path.parent.glob(f"{path.name}.*")))  # external data, if any
    if not attempts[-1].ok:
        path.unlink(missing_ok=True)
        return OnnxOutcome(None, batch, channels, length, attempts=tuple(attempts))
    rewrites = ONNX_REWRITES if attempts[-1].exporter == REWRITTEN else ()
    outcome = OnnxOutcome(
        path, batch, channels, length, attempts=tuple(attempts), rewrites=rewrites, extra_files=siblings
    )
    return _check(outcome, model, sample_rate)


def _check(outcome: OnnxOutcome, model: nn.Module, sample_rate: int) -> OnnxOutcome:
    """``onnx.checker``, then onnxruntime against the eager network on every check input (when installed)."""
    import onnx

    assert outcome.path is not None
    proto = onnx.load(str(outcome.path))
    onnx.checker.check_model(proto)
    opset = next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), None)
    if _missing("onnxruntime"):
        note = "onnx.checker passed; not run (onnxruntime is not installed)"
        return replace(outcome, opset=opset, checked=note)
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(outcome.path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    probes, worst = [], (0.0, 0.0, -1.0)
    for label, audio in check_inputs(outcome.batch, outcome.channels, outcome.length, sample_rate):
        with torch.no_grad():
            expected = model(audio)
        (got,) = session.run(None, {name: audio.numpy()})
        diff, scale = float((torch.from_numpy(got) - expected).abs().max()), float(expected.abs().max())
        relative = diff / max(scale, 1e-30)
        probes.append((label, relative))
        worst = max(worst, (diff, scale, relative), key=lambda item: item[2])
    note = f"onnx.checker passed; onnxruntime run on {len(probes)} inputs"
    return replace(
        outcome, opset=opset, checked=note, max_abs_diff=worst[0], output_scale=worst[1], probes=tuple(probes)
    )
