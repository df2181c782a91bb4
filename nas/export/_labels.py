"""What a network's outputs mean: ``labels.json`` in every export of a keyword spotter or a recogniser.

Logits are only useful with the label order the training task used, which lives in the task code, not
in the spec; without this file an export's user cannot say which word logit 7 is. The order is:

* ``kws``: logit ``i`` is ``SPEECH_COMMANDS_WORDS[i]``, the fixed order of the 35 Speech Commands words
  in which the loader numbers its labels (``nas.data.loaders``);
* ``asr``: channel 0 of the CTC logits is the blank, channel ``i >= 1`` is ``ALPHABET[i - 1]`` (a-z, space,
  apostrophe; ``nas.tasks._asr``), decoded greedily (best class per frame, repeats merged, blanks dropped);
* ``denoise``: the output is audio; there are no labels.

Each order is the task's ``TaskDefinition.output.labels`` (:mod:`nas.tasks.registry`), decoded as its
``decoding`` says (``argmax`` per item, or greedy ``ctc`` with the blank at index 0).

:func:`nas.export.load_labels` reads the file back as :class:`OutputLabels`, whose :meth:`~OutputLabels.decode`
turns logits into words or text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nas.export._errors import ExportError
from nas.tasks.metrics import ctc_greedy_decode
from nas.tasks.registry import get_task

LABELS = "labels.json"
BLANK = "<blank>"


@dataclass(frozen=True)
class OutputLabels:
    """Output index -> label for one task's network (``labels[0]`` is :data:`BLANK` for ``asr``)."""

    task: str
    labels: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        output = get_task(self.task).output
        if output.decoding == "ctc":
            how = "CTC logits (batch, classes, frames): per frame the argmax; merge repeats, drop index 0 (blank)"
        else:
            how = f"logits (batch, classes): labels[argmax] is {output.decoded}"
        return {"task": self.task, "decoding": how, "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputLabels:
        return cls(str(data["task"]), tuple(str(label) for label in data["labels"]))

    def decode(self, logits: torch.Tensor) -> list[str]:
        """The word (kws) or text (asr, greedy CTC) of every item of a batch of logits."""
        ctc = get_task(self.task).output.decoding == "ctc"
        expected = 3 if ctc else 2
        if logits.dim() != expected or logits.shape[1] != len(self.labels):
            allowed = "(batch, classes, frames)" if ctc else "(batch, classes)"
            raise ExportError(
                f"logits: got shape {tuple(logits.shape)}; allowed: {allowed} with classes = {len(self.labels)}"
            )
        if not ctc:
            return [self.labels[int(index)] for index in logits.argmax(dim=1)]
        frames = torch.full((logits.shape[0],), logits.shape[-1], dtype=torch.long)
        return ctc_greedy_decode(logits, frames, "".join(self.labels[1:]))


def task_labels(task: str, outputs: int) -> OutputLabels | None:
    """The labels of a ``task`` network with ``outputs`` output classes (``asr``: without the blank); None for
    ``denoise``, or when the network's size is not the task's (a spec that the task could not have trained)."""
    output = get_task(task).output
    if output.labels is None or outputs != len(output.labels):
        return None
    return OutputLabels(task, (BLANK, *output.labels) if output.decoding == "ctc" else output.labels)


def write_labels(labels: OutputLabels, folder: Path) -> Path:
    path = folder / LABELS
    path.write_text(json.dumps(labels.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_labels(folder: Path) -> OutputLabels:
    path = folder / LABELS
    if not path.is_file():
        raise ExportError(
            f"export: {str(folder)!r} has no {LABELS}; allowed: an export of a kws or asr network"
            " (a denoiser outputs audio, and exports made before labels were added lack the file)"
        )
    return OutputLabels.from_dict(json.loads(path.read_text(encoding="utf-8")))
