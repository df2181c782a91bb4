"""The map from logits to words (kws) and characters (asr) written into exports, and its decoding."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nas.data.loaders import SPEECH_COMMANDS_WORDS
from nas.export import ExportError, OutputLabels
from nas.export._labels import BLANK, read_labels, task_labels, write_labels
from nas.tasks import ALPHABET


def test_each_task_gets_the_label_order_it_trains_with() -> None:
    kws = task_labels("kws", 35)
    assert kws is not None and kws.labels == SPEECH_COMMANDS_WORDS and kws.labels[0] == "yes"
    asr = task_labels("asr", 28)
    assert asr is not None and asr.labels[0] == BLANK and "".join(asr.labels[1:]) == ALPHABET
    assert task_labels("denoise", 1) is None  # audio out: nothing to name
    assert task_labels("kws", 12) is None  # a size the task never trains: no labels rather than wrong ones


def test_greedy_ctc_decoding_merges_repeats_and_drops_blanks() -> None:
    labels = task_labels("asr", 28)
    assert labels is not None
    h, i, space = 1 + ALPHABET.index("h"), 1 + ALPHABET.index("i"), 1 + ALPHABET.index(" ")
    path = [0, h, h, 0, i, 0, i, space, space, i]
    logits = torch.zeros(1, 29, len(path))
    logits[0, path, range(len(path))] = 5.0
    assert labels.decode(logits) == ["hii i"]
    with pytest.raises(ExportError, match=r"logits: got shape \(1, 28, 10\); allowed: \(batch, classes, frames\)"):
        labels.decode(torch.zeros(1, 28, 10))


def test_labels_round_trip_through_the_file(tmp_path: Path) -> None:
    labels = task_labels("kws", 35)
    assert labels is not None
    write_labels(labels, tmp_path)
    assert read_labels(tmp_path) == labels == OutputLabels.from_dict(labels.to_dict())
    with pytest.raises(ExportError, match=r"has no labels\.json; allowed: an export of a kws or asr network"):
        read_labels(tmp_path / "elsewhere")
