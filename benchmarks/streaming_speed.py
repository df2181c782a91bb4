"""How fast does streaming inference run, against real time and against this core's limit?

For one layer of every mode and for the three baseline networks
(``studies/architectures/{kws,asr,denoise}-baseline.yaml``), this streams a 16 kHz signal of one
stream (batch 1) in chunks of a fixed length and reports:

* the **real-time factor**: compute time / audio time (below 1: faster than real time), from the
  median time per chunk over ``--chunks`` chunks after a warm-up (the first chunk of a length builds
  what is computed once per length and is not timed);
* the work of a chunk, in FLOPs: matrix products as ``FlopCounterMode`` counts them (2 per
  multiply-add; it does not see element-wise operations) plus FFTs at 2.5 N log2 N per row
  (``nas.cost.FFTRecorder``);
* the **physical limit**: that work at this core's measured peak (a 1024^3 float32 matrix product,
  the best case of the hardware), as a real-time factor. The ratio of the two says how far the
  chunk is from compute-bound: at these sizes a chunk is a few small operations, and their fixed
  cost per call, not arithmetic, sets the time.

Layers: dws, s5, neck, full and group layers as in a KWS stage (``LAYERS``), in 160-sample chunks
(10 ms) and one-sample chunks. Networks: in their smallest legal chunks (the total stride) and in
the multiple of it nearest 10 ms. Torch runs on one thread. ``--quick`` streams fewer chunks.

    python benchmarks/streaming_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from centaurus import SSMLayer
from centaurus.networks import build
from nas.cost import FFTRecorder
from search_spaces import Architecture

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16_000
# mode: (in channels, out channels, states, extras): layers of a typical KWS stage.
LAYERS: dict[str, tuple[int, int, int, dict[str, int]]] = {
    "dws": (64, 64, 16, {}),
    "s5": (64, 64, 64, {}),
    "neck": (64, 64, 16, {"bottleneck": 16}),
    "full": (16, 16, 16, {}),
    "group": (64, 64, 16, {"groups": 4}),
}
LAYER_CHUNKS = (160, 1)
NETWORKS = ("kws", "asr", "denoise")


@dataclass
class Row:
    name: str
    chunk: int
    chunk_us: float
    rtf: float
    flops: float
    limit_rtf: float

    def format(self) -> str:
        return (
            f"| {self.name} | {self.chunk} ({1e3 * self.chunk / SAMPLE_RATE:g} ms) | {self.rtf:.3f} | "
            f"{self.chunk_us:,.0f} | {self.flops / 1e6:.2f} | {self.limit_rtf:.4f} | {self.rtf / self.limit_rtf:.0f}x |"
        )


def peak_flops(seconds: float = 1.0) -> float:
    """Float32 FLOP/s of a large matrix product on this core: the best case of the hardware."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        runs += 1
    return 2 * 1024**3 * runs / (time.perf_counter() - started)


def chunk_flops(step: Callable[[torch.Tensor], torch.Tensor], chunk: torch.Tensor) -> float:
    """Matrix-product FLOPs (FlopCounterMode) plus FFT FLOPs of one call (element-wise ops unseen)."""
    recorder = FFTRecorder()
    with FlopCounterMode(display=False) as counter, recorder:
        step(chunk)
    return counter.get_total_flops() + sum(call.flops for call in recorder.calls)


def measure(
    name: str, step: Callable[[torch.Tensor], torch.Tensor], chunk: torch.Tensor, count: int, peak: float
) -> Row:
    length = chunk.shape[-1]
    for _ in range(3):  # the first call of a length builds its per-length constants
        step(chunk)
    flops = chunk_flops(step, chunk)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        step(chunk)
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    audio = length / SAMPLE_RATE
    return Row(name, length, seconds * 1e6, seconds / audio, flops, flops / peak / audio)


def _network_chunks(network: nn.Module) -> tuple[int, ...]:
    stride = network.total_stride
    ten_ms = max(stride, round(SAMPLE_RATE / 100 / stride) * stride)
    return (stride,) if ten_ms == stride else (stride, ten_ms)


def run(args: argparse.Namespace) -> list[Row]:
    peak = peak_flops()
    print(f"one thread, float32, peak {peak / 1e9:.1f} GFLOP/s (1024^3 matrix product)\n")
    print(
        "| model | chunk (samples) | real-time factor | us per chunk | MFLOP per chunk | limit (FLOPs at peak) |"
        " time / limit |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    with torch.no_grad():
        for mode, (c, d, n, extras) in LAYERS.items():
            torch.manual_seed(0)
            layer = SSMLayer(c, d, n, mode, **extras).eval()  # type: ignore[arg-type]
            for length in LAYER_CHUNKS:
                stream = layer.stream(batch=1)
                count = args.chunks if length > 1 else 10 * args.chunks
                name = f"{mode} layer {c}->{d}, {n} states" + (f", {extras}" if extras else "")
                rows.append(measure(name, stream, torch.randn(1, c, length), count, peak))
                print(rows[-1].format(), flush=True)
        for task in NETWORKS:
            arch = Architecture.load(ROOT / "studies" / "architectures" / f"{task}-baseline.yaml")
            torch.manual_seed(0)
            network = build(arch).eval()
            for length in _network_chunks(network):
                stream = network.stream(batch=1)
                chunk = torch.randn(1, arch.input.channels, length)
                rows.append(measure(f"{task}-baseline network", stream, chunk, args.chunks, peak))
                print(rows[-1].format(), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=200, help="timed chunks per row (median)")
    parser.add_argument("--quick", action="store_true", help="20 timed chunks per row")
    args = parser.parse_args(argv)
    if args.quick:
        args.chunks = 20
    torch.set_num_threads(1)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
