"""Speech recognition on LibriSpeech: CTC over characters, greedy decoding, CER and WER."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import ClassVar, cast

import soundfile
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, Subset

from nas.data.loaders import LibriSpeech, collate_transcripts
from nas.data.synth.asr import ASRConfig, generate_asr
from nas.data.synth.cli import asr_arguments, asr_fields
from nas.errors import TaskConfigError
from nas.tasks._progress import progress_bar
from nas.tasks.base import Direction, Task
from nas.tasks.config import TrainingConfig
from nas.tasks.metrics import character_error_rate, ctc_greedy_decode, word_error_rate
from nas.tasks.registry import CorpusDefinition, OutputDefinition, TaskDefinition, register_task
from search_spaces import Architecture

ALPHABET = "abcdefghijklmnopqrstuvwxyz '"
"""The 28 output symbols; index 0 of the recogniser's output is the CTC blank, ``i >= 1`` is ``ALPHABET[i-1]``."""
SPLITS = {"train": ("train-clean-100",), "validation": ("dev-clean",), "test": ("test-clean",)}


def encode(text: str) -> list[int]:
    """Character indices (1-based; 0 is the blank) of the in-vocabulary characters of ``text``."""
    return [ALPHABET.index(character) + 1 for character in text.lower() if character in ALPHABET]


def ctc_loss(
    logits: torch.Tensor, audio_lengths: torch.Tensor, transcripts: Sequence[str], stride: int
) -> torch.Tensor:
    """Mean CTC loss per target character over a batch of ``(batch, vocabulary + 1, frames)`` logits.

    Frames past an utterance's end (padding) are excluded through ``input_lengths``; an utterance too
    short to emit its transcript gives an infinite loss that ``zero_infinity`` drops from the mean.
    """
    log_probs = F.log_softmax(logits, dim=1).permute(2, 0, 1)  # (frames, batch, classes), as ctc_loss wants
    frames = torch.clamp(torch.div(audio_lengths + stride - 1, stride, rounding_mode="floor"), max=logits.shape[-1])
    targets = [torch.tensor(encode(text), dtype=torch.long) for text in transcripts]
    target_lengths = torch.tensor([len(target) for target in targets], dtype=torch.long)
    return F.ctc_loss(
        log_probs,
        torch.cat(targets).to(logits.device),
        frames.to(logits.device),
        target_lengths.to(logits.device),
        blank=0,
        reduction="mean",
        zero_infinity=True,
    )


class SpeechRecognitionTask(Task):
    """Transcribe utterances into characters; CER and WER on the test subsets (``test-clean``)."""

    name = "asr"
    metrics: ClassVar[dict[str, Direction]] = {"cer": "minimize", "wer": "minimize", "test_loss": "minimize"}
    primary_metric = "cer"
    worst_values: ClassVar[dict[str, float]] = {"cer": 1.0, "wer": 1.0}  # an empty transcript

    def __init__(
        self,
        data_root,
        *,
        splits: dict[str, tuple[str, ...]] | None = None,
        max_train_seconds: float = 16.0,
    ) -> None:
        super().__init__(data_root)
        self.splits = {**SPLITS, **(splits or {})}
        self.max_train_seconds = max_train_seconds
        self._datasets: dict[tuple[str, int], Dataset] = {}

    def dataset(self, split: str, arch: Architecture) -> Dataset:
        if split not in self.splits:
            raise TaskConfigError(f"asr split: got {split!r}; allowed: {', '.join(self.splits)}")
        key = (split, arch.input.sample_rate)
        if key not in self._datasets:
            corpus = LibriSpeech(self.data_root, self.splits[split], sample_rate=arch.input.sample_rate)
            self._datasets[key] = self._short_enough(corpus) if split == "train" else corpus
        return self._datasets[key]

    def _short_enough(self, corpus: LibriSpeech) -> Dataset:
        """Training keeps utterances up to ``max_train_seconds`` so one long file cannot blow the memory."""
        keep = [
            index
            for index, path in enumerate(corpus.files)
            if soundfile.info(str(path)).duration <= self.max_train_seconds
        ]
        return corpus if len(keep) == len(corpus) else Subset(corpus, keep)

    def check_architecture(self, arch: Architecture) -> None:
        self._check_task(arch)
        if arch.output.size != len(ALPHABET):
            raise TaskConfigError(
                f"output.size: got {arch.output.size}; allowed: {len(ALPHABET)} (a-z, space, apostrophe)"
            )
        if arch.input.channels != 1:
            raise TaskConfigError(f"input.channels: got {arch.input.channels}; allowed: 1 (mono speech)")

    def train_batches(
        self, arch: Architecture, config: TrainingConfig, epoch: int, first_batch: int = 0
    ) -> Iterable[object]:
        collate = partial(collate_transcripts, multiple_of=arch.total_stride)
        dataset = self.dataset("train", arch)
        return self._loader(dataset, config, shuffle=True, epoch=epoch, collate=collate, first_batch=first_batch)

    def step_loss(self, model: nn.Module, batch: object, device: torch.device) -> torch.Tensor:
        audio, lengths, transcripts = cast(tuple[torch.Tensor, torch.Tensor, Sequence[str]], batch)
        return ctc_loss(model(audio.to(device)), lengths, transcripts, cast(int, model.total_stride))

    def evaluate(
        self, model: nn.Module, arch: Architecture, config: TrainingConfig, split: str = "test"
    ) -> dict[str, float]:
        dataset = self.dataset(split, arch)
        loader = self._evaluation_batches(dataset, config, partial(collate_transcripts, multiple_of=arch.total_stride))
        device = next(model.parameters()).device
        stride = arch.total_stride
        references: list[str] = []
        hypotheses: list[str] = []
        loss_sum, batches = 0.0, 0
        with progress_bar(f"asr eval ({split})", enabled=config.progress, total=len(loader)) as bar:
            for done, batch in enumerate(loader, 1):
                bar.update(done)
                if batch is None:
                    continue
                audio, lengths, transcripts = batch
                logits = model(audio.to(device))
                loss_sum += ctc_loss(logits, lengths, transcripts, stride).item()
                batches += 1
                frames = torch.div(lengths + stride - 1, stride, rounding_mode="floor")
                hypotheses += ctc_greedy_decode(logits, frames, ALPHABET)
                references += [" ".join(text.lower().split()) for text in transcripts]
        if not references:
            raise TaskConfigError(f"asr evaluation: the {split} split of {self.data_root} has no readable utterance")
        return {
            "cer": character_error_rate(references, hypotheses),
            "wer": word_error_rate(references, hypotheses),
            "test_loss": loss_sum / batches,
        }


DEFINITION = register_task(
    TaskDefinition(
        name="asr",
        task=SpeechRecognitionTask,
        corpus=CorpusDefinition(
            config=ASRConfig,
            generate=generate_asr,
            help="speech recognition, LibriSpeech layout (16 kHz FLAC)",
            arguments=asr_arguments,
            fields=asr_fields,
        ),
        output=OutputDefinition(
            onnx_name="logits",
            per_chunk="(batch, vocabulary + 1, T / total_stride) CTC logits of the chunk's frames (blank = 0)",
            labels=tuple(ALPHABET),  # index i >= 1 of the logits; 0 is the CTC blank
            decoding="ctc",
            label="character",
            decoded="the text (greedy CTC)",
        ),
    )
)
