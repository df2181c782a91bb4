"""Real-time inference of an exported network: chunks in, outputs out, the SSM states carried in between.

:class:`StreamingModel` wraps ``network.stream(batch)`` (``centaurus.networks.NetworkStream``): every
SSM layer carries one complex state per pole between chunks, so the outputs of consecutive chunks
equal the full-sequence output, provided each chunk's length is a multiple of the network's total
stride (the product of the stage strides, times the hop of a log-mel frontend, which carries its
last ``window - hop`` samples). Within one stream the chunk length may vary.

What a chunk returns depends on the task:

* ``kws``: ``(batch, classes)`` logits of everything heard since the last :meth:`~StreamingModel.reset`;
* ``asr``: ``(batch, vocabulary + 1, T / total_stride)`` CTC logits of the chunk's frames;
* ``denoise``: ``(batch, channels, T)`` enhanced audio of the chunk.

The carried state can be saved and restored (:meth:`~StreamingModel.state_dict`), e.g. to move a live
stream between processes; complex states are stored as real ``(..., 2)`` views.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from centaurus.errors import CentaurusConfigError
from centaurus.networks import NetworkStream, ssm_layers
from centaurus.networks.frontend import FrontendStream, LogMelFrontend
from nas.tasks.registry import get_task, task_names

_POOLED_SUM = "pooled_sum"
_POOLED_COUNT = "pooled_count"


class StreamingModel:
    """Chunked, state-carrying inference over an eval-mode network for ``batch`` parallel streams.

    ``model = StreamingModel(network, "kws")``; ``model(chunk)`` for each chunk of shape
    ``(batch, channels, T)`` with ``T`` a multiple of :attr:`total_stride`; ``model.reset()`` between
    utterances. :meth:`run` feeds a whole signal through in chunks. A chunk of another batch size (or
    number of channels, when ``channels`` is given) is refused with a message naming ``batch=``: the
    carried states are sized for ``batch`` streams, and a mismatch would otherwise surface as a shape
    error deep inside a layer.
    """

    def __init__(self, network: nn.Module, task: str, batch: int = 1, channels: int | None = None) -> None:
        if task not in task_names():
            raise CentaurusConfigError(f"task: got {task!r}; allowed: {', '.join(task_names())}")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise CentaurusConfigError(f"batch: got {batch!r}; allowed: a positive integer (parallel streams)")
        self.network = network.eval()
        self.task = task
        self.channels = channels
        self.stream: NetworkStream = network.stream(batch)  # type: ignore[operator]
        self._names = {layer: name for name, layer in network.named_modules() if layer in self.stream.streams}

    @property
    def batch(self) -> int:
        return self.stream.batch

    @property
    def total_stride(self) -> int:
        """Chunk lengths must be multiples of this many samples."""
        return int(self.network.total_stride)  # type: ignore[arg-type]

    def __call__(self, chunk: torch.Tensor) -> torch.Tensor:
        self._check(chunk)
        return self.stream(chunk)

    def _check(self, chunk: torch.Tensor) -> None:
        shape = tuple(chunk.shape)
        channels = "channels" if self.channels is None else str(self.channels)
        allowed = f"({self.batch}, {channels}, T) with T a multiple of {self.total_stride}"
        if len(shape) != 3:
            raise CentaurusConfigError(f"chunk: got shape {shape}; allowed: {allowed}")
        if shape[0] != self.batch:
            raise CentaurusConfigError(
                f"chunk: got batch {shape[0]} (shape {shape}); allowed: batch {self.batch}, the batch= this stream"
                f" was opened with (for {shape[0]} parallel streams: load_streaming(path, batch={shape[0]}))"
            )
        if self.channels is not None and shape[1] != self.channels:
            raise CentaurusConfigError(f"chunk: got {shape[1]} channel(s) (shape {shape}); allowed: {allowed}")

    def reset(self) -> None:
        """Start a new utterance: zero every carried state (and, for kws, the pooled features)."""
        self.stream.reset()

    def run(self, audio: torch.Tensor, chunk_length: int) -> torch.Tensor:
        """Feed ``audio`` ``(batch, channels, L)`` through in chunks of ``chunk_length`` samples (the last may be
        shorter; every chunk must be a multiple of the total stride) and return what the full-sequence network
        returns: the last chunk's logits for kws, the chunks' outputs joined along time otherwise."""
        stride = self.total_stride
        if chunk_length < 1 or chunk_length % stride:
            raise CentaurusConfigError(
                f"chunk_length: got {chunk_length}; allowed: a positive multiple of the total stride {stride}"
            )
        outputs = [self(audio[..., start : start + chunk_length]) for start in range(0, audio.shape[-1], chunk_length)]
        if not outputs:
            raise CentaurusConfigError("audio: got length 0; allowed: at least one chunk")
        return outputs[-1] if get_task(self.task).pooled else torch.cat(outputs, dim=-1)

    # ------------------------------------------------------------------------- carried state
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The carried state by module name: ``<SSM layer path>.state`` (real views of the complex states) and
        ``<frontend path>.history`` (the samples a log-mel frontend's next frames still read)."""
        state = {
            self._state_key(module, stream): stream.history.clone()
            if isinstance(stream, FrontendStream)
            else torch.view_as_real(stream.state).clone()
            for module, stream in self._streams()
        }
        if self.stream.pooled_sum is not None:
            state[_POOLED_SUM] = self.stream.pooled_sum.clone()
        state[_POOLED_COUNT] = torch.tensor(self.stream.pooled_count)
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore a state from :meth:`state_dict` (same network, same batch)."""
        expected = {self._state_key(module, stream) for module, stream in self._streams()}
        missing = sorted(expected - set(state))
        if missing:
            raise CentaurusConfigError(f"state: missing {', '.join(missing)}; allowed: a state_dict of this stream")
        for module, stream in self._streams():
            name = self._names[module]
            if isinstance(stream, FrontendStream):
                history = state[self._state_key(module, stream)]
                if tuple(history.shape) != tuple(stream.history.shape):
                    allowed = tuple(stream.history.shape)
                    raise CentaurusConfigError(f"state {name}: got shape {tuple(history.shape)}; allowed: {allowed}")
                stream.history = history.to(stream.history.dtype).clone()
                continue
            carried = torch.view_as_complex(state[self._state_key(module, stream)].contiguous())
            if tuple(carried.shape) != tuple(stream.state.shape):
                allowed = tuple(stream.state.shape)
                raise CentaurusConfigError(f"state {name}: got shape {tuple(carried.shape)}; allowed: {allowed}")
            stream.state = carried.to(stream.state.dtype).clone()
        self.stream.pooled_sum = state[_POOLED_SUM].clone() if _POOLED_SUM in state else None
        self.stream.pooled_count = int(state[_POOLED_COUNT]) if _POOLED_COUNT in state else 0

    def _streams(self) -> list[tuple[nn.Module, Any]]:
        return list(self.stream.streams.items())

    def _state_key(self, module: nn.Module, stream: object) -> str:
        return f"{self._names[module]}.{'history' if isinstance(stream, FrontendStream) else 'state'}"


def streaming_info(network: nn.Module, task: str, sample_rate: int) -> dict[str, Any]:
    """What ``streaming.json`` records: the chunk rule, its latency, the outputs and the carried state's size."""
    stride = int(network.total_stride)  # type: ignore[arg-type]
    layers = ssm_layers(network)
    states = []
    total_bytes = 0
    for name, module in network.named_modules():
        if module in layers:
            shape = list(module.a_re.shape)  # one complex value per pole
            total_bytes += math.prod(shape) * 2 * module.a_re.element_size()
            states.append({"layer": name, "shape_per_stream": shape, "dtype": "complex"})
        elif isinstance(module, LogMelFrontend):
            shape = [module.channels, module.context]  # the last window - hop samples
            total_bytes += math.prod(shape) * module.hann.element_size()
            states.append({"layer": name, "shape_per_stream": shape, "dtype": "real"})
    return {
        "task": task,
        "sample_rate": sample_rate,
        "total_stride": stride,
        "chunk_rule": f"every chunk's length must be a multiple of {stride} samples (the total stride)",
        "smallest_chunk_ms": 1000.0 * stride / sample_rate,
        "output_per_chunk": get_task(task).output.per_chunk,
        "state_bytes_per_stream": total_bytes,
        "states": states,
    }


STREAMING_EXAMPLE = '''"""Stream an audio file through this exported network chunk by chunk (real-time style).

    python streaming.py input.wav [--chunk-ms 20]

Chunk lengths are rounded down to a multiple of the total stride (see streaming.json). Needs the
centaurus-nas package (pip install centaurus-nas, or the repository) and soundfile.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import soundfile
import torch

from nas.export import load_labels, load_streaming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", help="an audio file at the network's sample rate (see streaming.json)")
    parser.add_argument("--chunk-ms", type=float, default=20.0)
    args = parser.parse_args()
    folder = Path(__file__).parent
    info = json.loads((folder / "streaming.json").read_text())
    model = load_streaming(folder)
    labels = load_labels(folder) if (folder / "labels.json").is_file() else None  # kws: words, asr: characters
    signal, rate = soundfile.read(args.audio, dtype="float32", always_2d=True)
    if rate != info["sample_rate"]:
        raise SystemExit(f"{args.audio}: {rate} Hz; this network reads {info['sample_rate']} Hz audio")
    audio = torch.from_numpy(signal.T.copy()).unsqueeze(0)  # (1, channels, samples)
    stride = model.total_stride
    chunk = max(stride, int(args.chunk_ms * rate / 1000) // stride * stride)
    usable = audio.shape[-1] // stride * stride  # a trailing partial window cannot be streamed exactly
    for start in range(0, usable, chunk):
        output = model(audio[..., start : min(start + chunk, usable)])
        if labels is None:
            shown = f"{tuple(output.shape)}"
        elif output.dim() == 2:  # one answer per stream (kws): what was heard so far
            shown = f"best word so far: {labels.decode(output)[0]}"
        else:
            shown = f"text of this chunk: {labels.decode(output)[0]!r}"
        print(f"{start / rate:8.3f} s  {shown}")


if __name__ == "__main__":
    main()
'''
"""The ``streaming.py`` written into every export: a runnable example of :func:`nas.export.load_streaming`."""
