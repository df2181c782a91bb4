"""Keyword spotting on Speech Commands v2 (35 words): cross-entropy training, top-1 accuracy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, cast

import torch
import torch.nn.functional as F
from torch import nn

from nas.data.augment import KeywordAugment, background_noise
from nas.data.loaders import SPEECH_COMMANDS_WORDS, SpeechCommands, collate_classification
from nas.data.synth.cli import kws_arguments, kws_fields
from nas.data.synth.kws import KWSConfig, generate_kws
from nas.errors import TaskConfigError
from nas.tasks._progress import progress_bar
from nas.tasks.base import Direction, Task
from nas.tasks.config import TrainingConfig
from nas.tasks.registry import CorpusDefinition, OutputDefinition, TaskDefinition, register_task
from search_spaces import Architecture


class KeywordSpottingTask(Task):
    """Classify 1 s clips into the 35 Speech Commands words; accuracy on the speaker-disjoint test split."""

    name = "kws"
    metrics: ClassVar[dict[str, Direction]] = {"accuracy": "maximize", "test_loss": "minimize"}
    primary_metric = "accuracy"
    worst_values: ClassVar[dict[str, float]] = {"accuracy": 0.0}

    def __init__(self, data_root, *, classes: tuple[str, ...] = SPEECH_COMMANDS_WORDS) -> None:
        super().__init__(data_root)
        self.classes = tuple(classes)
        self._splits: dict[tuple[str, int, int], SpeechCommands] = {}
        self._noise: list[torch.Tensor] | None = None

    def dataset(self, split: str, arch: Architecture) -> SpeechCommands:
        key = (split, arch.input.sample_rate, arch.input.length)
        if key not in self._splits:
            self._splits[key] = SpeechCommands(
                self.data_root,
                split,
                sample_rate=arch.input.sample_rate,
                length=arch.input.length,
                classes=self.classes,
            )
        return self._splits[key]

    def check_architecture(self, arch: Architecture) -> None:
        self._check_task(arch)
        if arch.output.size != len(self.classes):
            raise TaskConfigError(
                f"output.size: got {arch.output.size}; allowed: {len(self.classes)} (one logit per keyword class)"
            )
        if arch.input.channels != 1:
            raise TaskConfigError(f"input.channels: got {arch.input.channels}; allowed: 1 (mono speech)")

    def train_batches(
        self, arch: Architecture, config: TrainingConfig, epoch: int, first_batch: int = 0
    ) -> Iterable[object]:
        clips = self.dataset("train", arch)
        dataset: SpeechCommands | KeywordAugment = clips
        if config.augment:
            if self._noise is None:
                self._noise = background_noise(self.data_root, arch.input.sample_rate)
            dataset = KeywordAugment(clips, noise=self._noise, seed=config.seed)
            dataset.set_epoch(epoch)
        return self._loader(
            dataset, config, shuffle=True, epoch=epoch, collate=collate_classification, first_batch=first_batch
        )

    def step_loss(self, model: nn.Module, batch: object, device: torch.device) -> torch.Tensor:
        audio, labels = cast(tuple[torch.Tensor, torch.Tensor], batch)
        return F.cross_entropy(model(audio.to(device)), labels.to(device))

    def evaluate(
        self, model: nn.Module, arch: Architecture, config: TrainingConfig, split: str = "test"
    ) -> dict[str, float]:
        dataset = self.dataset(split, arch)
        loader = self._evaluation_batches(dataset, config, collate_classification)
        device = next(model.parameters()).device
        correct, total, loss_sum = 0, 0, 0.0
        with progress_bar(f"kws eval ({split})", enabled=config.progress, total=len(loader)) as bar:
            for done, batch in enumerate(loader, 1):
                bar.update(done)
                if batch is None:
                    continue
                audio, labels = batch
                logits = model(audio.to(device))
                labels = labels.to(device)
                loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
                correct += int((logits.argmax(dim=-1) == labels).sum())
                total += labels.numel()
        if total == 0:
            raise TaskConfigError(f"kws evaluation: the {split} split of {self.data_root} has no readable clip")
        return {"accuracy": correct / total, "test_loss": loss_sum / total}


DEFINITION = register_task(
    TaskDefinition(
        name="kws",
        task=KeywordSpottingTask,
        corpus=CorpusDefinition(
            config=KWSConfig,
            generate=generate_kws,
            help="keyword spotting, Google Speech Commands v2 layout",
            arguments=kws_arguments,
            fields=kws_fields,
        ),
        output=OutputDefinition(
            onnx_name="logits",
            per_chunk="(batch, classes) logits of everything heard since the last reset",
            labels=SPEECH_COMMANDS_WORDS,  # the loader numbers its labels in this order
            decoding="argmax",
            label="word",
            decoded="the word heard",
        ),
    )
)
