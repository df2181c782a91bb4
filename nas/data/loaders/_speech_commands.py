"""Speech Commands v2 (Warden, 2018): one-second spoken words, one folder per word, split by two list files.

The split is defined by ``validation_list.txt`` and ``testing_list.txt`` at the root (lines ``word/file.wav``);
training is every file of a listed class that is in neither list. Speakers never cross splits in the real
lists (file names start with a speaker hash), which is why ``speaker_of`` exists: other splits built from this
corpus should keep that property.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from nas.data.loaders._arguments import LENGTH, checked
from nas.data.loaders._audio import _AudioCorpus, _pad_or_crop, _screen
from nas.data.loaders._layout import _Layout, _root_path

__all__ = ["SPEECH_COMMANDS_SPLITS", "SPEECH_COMMANDS_WORDS", "SpeechCommands"]

# fmt: off
SPEECH_COMMANDS_WORDS: tuple[str, ...] = (
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
    "backward", "forward", "follow", "learn", "visual",
)
# fmt: on
"""The 35 words of Speech Commands v2, in the fixed order that defines the labels (label = index)."""

SPEECH_COMMANDS_SPLITS: tuple[str, ...] = ("train", "validation", "test")

_LIST_FILES = {"validation": "validation_list.txt", "test": "testing_list.txt"}
_SPEAKER_SEPARATOR = "_nohash_"

_LAYOUT = _Layout(
    name="Speech Commands v2",
    tree="\n".join(
        [
            "  ROOT/",
            "    validation_list.txt          (lines like: yes/0a7c2a8d_nohash_0.wav)",
            "    testing_list.txt             (same format; train = every other file)",
            "    yes/0a7c2a8d_nohash_0.wav    (16 kHz, about 1 s)",
            "    yes/*.wav ...",
            "    no/*.wav ...",
            "    ...                          (one folder per word; _background_noise_/ is ignored)",
        ]
    ),
)


def _read_list(path: Path) -> set[str]:
    """The ``word/file.wav`` entries of a split list, tolerant of CRLF line ends and Windows separators."""
    text = path.read_text(encoding="utf-8")
    return {line.strip().replace("\\", "/") for line in text.splitlines() if line.strip()}


class SpeechCommands(_AudioCorpus[tuple[Tensor, int] | None]):
    """One split of a Speech Commands v2 folder; items are ``(waveform [1, length] float32, label)``.

    ``label`` is the word's index in ``classes``; folders not in ``classes`` are ignored. Waveforms are
    resampled to ``sample_rate`` if a file has another rate, then zero-padded at the end or centre-cropped
    to ``length`` samples so every item can be stacked. Items come in sorted ``word/file`` order. An item
    whose file fails to read is ``None`` (see ``collate_classification``).

    Attributes: ``classes``, ``split``, ``files`` (paths), ``labels`` (ints, parallel to ``files``),
    ``skipped`` (``(path, reason)`` for files that could not be used, including listed files that are missing).
    """

    _label = "SpeechCommands"

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str,
        *,
        sample_rate: int = 16000,
        length: int = 16000,
        classes: Sequence[str] = SPEECH_COMMANDS_WORDS,
    ) -> None:
        folder = _root_path(root)
        super().__init__(folder, sample_rate)
        _LAYOUT.require_choice(folder, "split", split, SPEECH_COMMANDS_SPLITS)
        self.split = split
        self.length = checked(LENGTH, length)
        self.classes: tuple[str, ...] = self._check_classes(folder, classes)
        _LAYOUT.require_folder(folder, "the root folder")
        lists = {name: self._list(folder, file_name) for name, file_name in _LIST_FILES.items()}

        candidates, missing = self._candidates(folder, lists)
        if not candidates:
            shown = ", ".join(self.classes[:5]) + (", ..." if len(self.classes) > 5 else "")
            absent = f"; {len(missing)} files named in the list do not exist" if missing else ""
            raise _LAYOUT.error(
                folder, f"no .wav files of split {split!r} in the folders of the classes ({shown}){absent}"
            )
        good, bad = _screen(path for path, _ in candidates)
        self.skipped = missing + bad
        kept = [(path, label) for path, label in candidates if path in good]
        if not kept:
            raise _LAYOUT.error(folder, f"none of the {len(candidates)} files of split {split!r} could be read")
        self.files = [path for path, _ in kept]
        self.labels: list[int] = [label for _, label in kept]
        self._report_skipped(len(candidates) + len(missing))

    @staticmethod
    def _check_classes(folder: Path, classes: Sequence[str]) -> tuple[str, ...]:
        """The class list as a tuple; it must be non-empty words without repeats (labels are indices)."""
        if isinstance(classes, str):
            raise _LAYOUT.error(folder, f"classes={classes!r} must be a sequence of words, not one string")
        names = tuple(classes)
        if not names:
            raise _LAYOUT.error(folder, "classes is empty: give at least one word folder name")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise _LAYOUT.error(folder, f"classes repeats {', '.join(repeated)}: each word must appear once")
        return names

    @staticmethod
    def _list(folder: Path, file_name: str) -> set[str]:
        """The entries of one list file, which must exist whatever the split (train is defined by both)."""
        path = folder / file_name
        if not path.is_file():
            raise _LAYOUT.error(folder, f"missing {file_name} (expected {path})")
        return _read_list(path)

    def _candidates(
        self, folder: Path, lists: dict[str, set[str]]
    ) -> tuple[list[tuple[Path, int]], list[tuple[Path, str]]]:
        """The split's (path, label) pairs in sorted order, and listed files of the split that do not exist."""
        listed_anywhere = set().union(*lists.values())
        wanted = lists.get(self.split)
        candidates: list[tuple[Path, int]] = []
        absent_classes: list[str] = []
        for label, word in enumerate(self.classes):
            word_folder = folder / word
            if not word_folder.is_dir():
                absent_classes.append(word)
                continue
            for path in sorted(word_folder.glob("*.wav")):
                key = f"{word}/{path.name}"
                in_split = key in wanted if wanted is not None else key not in listed_anywhere
                if in_split:
                    candidates.append((path, label))
        if absent_classes:
            warnings.warn(
                f"SpeechCommands at {folder}: no folder for {len(absent_classes)} of the {len(self.classes)} "
                f"classes ({', '.join(absent_classes)}); their labels will never occur",
                UserWarning,
                stacklevel=3,
            )
        candidates.sort(key=lambda item: (item[0].parent.name, item[0].name))
        missing: list[tuple[Path, str]] = []
        if wanted is not None:
            present = {f"{path.parent.name}/{path.name}" for path, _ in candidates}
            wanted_words = set(self.classes)
            for key in sorted(wanted - present):
                if key.split("/", 1)[0] in wanted_words and not (folder / key).is_file():
                    missing.append((folder / key, f"listed in {_LIST_FILES[self.split]} but the file does not exist"))
        return candidates, missing

    def __getitem__(self, index: int) -> tuple[Tensor, int] | None:
        waveform = self._read(self.files[index])
        if waveform is None:
            return None
        return _pad_or_crop(waveform, self.length), self.labels[index]

    def speaker_of(self, index: int) -> str:
        """The speaker hash of item ``index``: the file name's part before ``_nohash_``."""
        return self.files[index].stem.split(_SPEAKER_SEPARATOR, 1)[0]
