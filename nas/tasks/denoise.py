"""Speech denoising on VoiceBank+DEMAND: waveform L1 + multi-resolution STFT loss; SI-SNRi, PESQ, STOI."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nas.data.loaders import RandomSegments, VoiceBankDemand, collate_pairs
from nas.data.synth.cli import denoise_arguments, denoise_fields
from nas.data.synth.denoise import DenoiseConfig, generate_denoise
from nas.errors import TaskConfigError
from nas.tasks._progress import progress_bar
from nas.tasks.base import Direction, Task
from nas.tasks.config import TrainingConfig
from nas.tasks.metrics import pesq_wideband, si_snr, stoi
from nas.tasks.registry import CorpusDefinition, OutputDefinition, TaskDefinition, register_task
from search_spaces import Architecture

STFT_RESOLUTIONS = ((512, 128), (1024, 256), (256, 64))  # (n_fft, hop): the usual multi-resolution set
_EPS = 1e-7


def multi_resolution_stft_loss(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean over resolutions of spectral convergence plus log-magnitude L1 (Yamamoto et al., 2020).

    The waveform L1 alone under-weights quiet high-frequency detail; the spectral terms catch it and
    do not care about phase errors the ear does not hear.
    """
    estimate, reference = estimate.flatten(0, -2), reference.flatten(0, -2)
    total = estimate.new_zeros(())
    for n_fft, hop in STFT_RESOLUTIONS:
        window = torch.hann_window(n_fft, device=estimate.device, dtype=estimate.dtype)
        est = torch.stft(estimate, n_fft, hop, window=window, return_complex=True).abs()
        ref = torch.stft(reference, n_fft, hop, window=window, return_complex=True).abs()
        convergence = torch.linalg.vector_norm(ref - est) / (torch.linalg.vector_norm(ref) + _EPS)
        log_magnitude = (torch.log(ref + _EPS) - torch.log(est + _EPS)).abs().mean()
        total = total + convergence + log_magnitude
    return total / len(STFT_RESOLUTIONS)


def denoising_loss(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(estimate, reference) + multi_resolution_stft_loss(estimate, reference)


class DenoisingTask(Task):
    """Map noisy speech to clean speech; scored on the test split's full utterances."""

    name = "denoise"
    metrics: ClassVar[dict[str, Direction]] = {
        "si_snri": "maximize",
        "si_snr": "maximize",
        "pesq": "maximize",
        "stoi": "maximize",
        "pesq_noisy": "maximize",
        "stoi_noisy": "maximize",
        "si_snr_noisy": "maximize",
    }
    primary_metric = "pesq"
    worst_values: ClassVar[dict[str, float]] = {"stoi": 0.0, "pesq": 1.0}  # wideband MOS-LQO starts at 1

    def __init__(self, data_root) -> None:
        super().__init__(data_root)
        self._splits: dict[tuple[str, int], VoiceBankDemand] = {}

    def dataset(self, split: str, arch: Architecture) -> VoiceBankDemand:
        key = (split, arch.input.sample_rate)
        if key not in self._splits:
            self._splits[key] = VoiceBankDemand(self.data_root, split, sample_rate=arch.input.sample_rate)
        return self._splits[key]

    def check_architecture(self, arch: Architecture) -> None:
        self._check_task(arch)
        if arch.input.channels != 1 or arch.output.size != 1:
            raise TaskConfigError(
                f"input.channels/output.size: got {arch.input.channels}/{arch.output.size};"
                " allowed: 1/1 (mono in, mono out)"
            )
        if arch.input.sample_rate not in (8000, 16000):
            raise TaskConfigError(f"input.sample_rate: got {arch.input.sample_rate}; allowed: 8000, 16000 (PESQ)")

    def train_batches(
        self, arch: Architecture, config: TrainingConfig, epoch: int, first_batch: int = 0
    ) -> Iterable[object]:
        segments = RandomSegments(self.dataset("train", arch), arch.input.length, seed=config.seed)
        segments.set_epoch(epoch)
        collate = partial(collate_pairs, multiple_of=arch.total_stride)
        return self._loader(segments, config, shuffle=True, epoch=epoch, collate=collate, first_batch=first_batch)

    def step_loss(self, model: nn.Module, batch: object, device: torch.device) -> torch.Tensor:
        noisy, clean, _ = cast(tuple[torch.Tensor, torch.Tensor, object], batch)
        return denoising_loss(model(noisy.to(device)), clean.to(device))

    def evaluate(
        self, model: nn.Module, arch: Architecture, config: TrainingConfig, split: str = "test"
    ) -> dict[str, float]:
        dataset = self.dataset(split, arch)
        loader = self._evaluation_batches(dataset, config, partial(collate_pairs, multiple_of=arch.total_stride))
        device = next(model.parameters()).device
        rate = arch.input.sample_rate
        scores: dict[str, list[float]] = {key: [] for key in self.metrics if key != "si_snri"}
        with progress_bar(f"denoise eval ({split})", enabled=config.progress, total=len(loader)) as bar:
            for done, batch in enumerate(loader, 1):
                bar.update(done)
                if batch is None:
                    continue
                noisy, clean, lengths = batch
                enhanced = model(noisy.to(device)).cpu()
                for index, length in enumerate(lengths.tolist()):
                    reference = clean[index, 0, :length]
                    estimate, degraded = enhanced[index, 0, :length], noisy[index, 0, :length]
                    scores["si_snr"].append(float(si_snr(estimate, reference)))
                    scores["si_snr_noisy"].append(float(si_snr(degraded, reference)))
                    ref_np = reference.numpy()
                    for key, signal in (("", estimate), ("_noisy", degraded)):
                        quality = pesq_wideband(ref_np, signal.numpy(), rate)
                        if quality is not None:
                            scores[f"pesq{key}"].append(quality)
                        scores[f"stoi{key}"].append(stoi(ref_np, signal.numpy(), rate))
        if not scores["si_snr"]:
            raise TaskConfigError(f"denoise evaluation: the {split} split of {self.data_root} has no readable pair")
        metrics = {key: float(np.mean(values)) if values else float("nan") for key, values in scores.items()}
        metrics["si_snri"] = metrics["si_snr"] - metrics["si_snr_noisy"]
        return {key: metrics[key] for key in self.metrics}


DEFINITION = register_task(
    TaskDefinition(
        name="denoise",
        task=DenoisingTask,
        corpus=CorpusDefinition(
            config=DenoiseConfig,
            generate=generate_denoise,
            help="speech denoising, VoiceBank+DEMAND layout (16 kHz)",
            arguments=denoise_arguments,
            fields=denoise_fields,
        ),
        output=OutputDefinition(onnx_name="audio_out", per_chunk="(batch, channels, T) enhanced audio of the chunk"),
    )
)
