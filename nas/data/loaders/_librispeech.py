"""LibriSpeech (Panayotov et al., 2015): read audiobook utterances with transcripts, for speech recognition.

Each chapter folder holds the utterances as FLAC and one ``<speaker>-<chapter>.trans.txt`` with a line per
utterance (``19-198-0000 TRANSCRIPT``, upper case). The official tarballs extract to ``LibriSpeech/<subset>``,
so the root may be either the folder holding the subsets or its parent.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from nas.data.loaders._audio import _AudioCorpus, _screen
from nas.data.loaders._layout import _Layout, _root_path

__all__ = ["LIBRISPEECH_SUBSETS", "LibriSpeech"]

LIBRISPEECH_SUBSETS: tuple[str, ...] = (
    "train-clean-100",
    "train-clean-360",
    "train-other-500",
    "dev-clean",
    "dev-other",
    "test-clean",
    "test-other",
)
"""The official subset names (any folder name is accepted: our generator may write others)."""

_PARENT = "LibriSpeech"
_TRANSCRIPT_SUFFIX = ".trans.txt"

_LAYOUT = _Layout(
    name="LibriSpeech",
    tree="\n".join(
        [
            "  ROOT/                          (or ROOT/LibriSpeech/, as the official tarballs extract)",
            "    train-clean-100/             (one folder per subset: dev-clean, test-clean, ...)",
            "      19/                        (speaker)",
            "        198/                     (chapter)",
            "          19-198.trans.txt       (lines: 19-198-0000 TRANSCRIPT)",
            "          19-198-0000.flac ...",
        ]
    ),
)


def _subset_names(root: Path, subsets: str | Sequence[str]) -> tuple[str, ...]:
    """``subsets`` as a tuple of distinct names (one name may be given as a plain string)."""
    names = (subsets,) if isinstance(subsets, str) else tuple(subsets)
    if not names:
        raise _LAYOUT.error(root, f"subsets is empty: give one or more of {', '.join(LIBRISPEECH_SUBSETS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _LAYOUT.error(root, f"subsets repeats {', '.join(repeated)}: each subset must appear once")
    return names


def _subset_folder(root: Path, subset: str) -> Path:
    """``root/subset`` or ``root/LibriSpeech/subset``, whichever is a folder."""
    for folder in (root / subset, root / _PARENT / subset):
        if folder.is_dir():
            return folder
    raise _LAYOUT.error(
        root, f"missing subset folder {subset}/ (looked for {root / subset} and {root / _PARENT / subset})"
    )


def _read_transcripts(chapter: Path) -> tuple[dict[str, str], dict[str, Path]]:
    """Utterance id -> lower-cased transcript for one chapter folder, and id -> the file that gave it."""
    texts: dict[str, str] = {}
    sources: dict[str, Path] = {}
    for path in sorted(chapter.glob(f"*{_TRANSCRIPT_SUFFIX}")):
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.strip().split(maxsplit=1)
            if parts:
                texts[parts[0]] = parts[1].lower() if len(parts) > 1 else ""
                sources[parts[0]] = path
    return texts, sources


class LibriSpeech(_AudioCorpus[tuple[Tensor, str] | None]):
    """Utterances of one or more LibriSpeech subsets; items are ``(waveform [1, L] float32, transcript)``.

    Transcripts are lower-cased. Items come subset by subset in the order given, sorted by path within each.
    Audio without a transcript line, a transcript line without audio (or with no text), and unreadable files
    are reported in ``skipped``. An item whose file fails to read later is ``None`` (see
    ``collate_transcripts``).

    Attributes: ``subsets``, ``files`` (paths), ``transcripts`` (parallel, lower case), ``skipped``
    (``(path, reason)``; for a line without audio, the path the audio should have had).
    """

    _label = "LibriSpeech"

    def __init__(self, root: str | os.PathLike[str], subsets: str | Sequence[str], *, sample_rate: int = 16000) -> None:
        folder = _root_path(root)
        super().__init__(folder, sample_rate)
        _LAYOUT.require_folder(folder, "the root folder")
        self.subsets = _subset_names(folder, subsets)
        subset_folders = [_subset_folder(folder, subset) for subset in self.subsets]

        candidates: list[tuple[Path, str]] = []
        skipped: list[tuple[Path, str]] = []
        for subset_folder in subset_folders:
            found, problems = self._scan_subset(subset_folder)
            candidates.extend(found)
            skipped.extend(problems)
        if not candidates and not skipped:
            listed = ", ".join(f"{subset}/" for subset in self.subsets)
            raise _LAYOUT.error(folder, f"no .flac files under {listed} (expected SPEAKER/CHAPTER/*.flac)")
        good, bad = _screen(path for path, _ in candidates)
        skipped.extend(bad)
        kept = [(path, text) for path, text in candidates if path in good]
        self.skipped = skipped
        if not kept:
            raise _LAYOUT.error(folder, f"no usable utterance: all {len(skipped)} files or lines were skipped")
        self.files = [path for path, _ in kept]
        self.transcripts: list[str] = [text for _, text in kept]
        self._report_skipped(len(candidates) + len(skipped) - len(bad))

    @staticmethod
    def _scan_subset(subset: Path) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
        """The (flac, transcript) pairs of one subset in sorted order, and the utterances missing either half."""
        found: list[tuple[Path, str]] = []
        problems: list[tuple[Path, str]] = []
        for chapter in sorted(path for path in subset.glob("*/*") if path.is_dir()):
            texts, sources = _read_transcripts(chapter)
            audio = {path.stem: path for path in sorted(chapter.glob("*.flac"))}
            for utterance, path in audio.items():
                if utterance not in texts:
                    problems.append((path, f"no line for {utterance} in a *{_TRANSCRIPT_SUFFIX} file of its folder"))
                elif not texts[utterance]:
                    problems.append((path, f"the line for {utterance} in {sources[utterance].name} has no text"))
                else:
                    found.append((path, texts[utterance]))
            for utterance in sorted(texts.keys() - audio.keys()):
                reason = f"{sources[utterance].name} has a line for it but the file is missing"
                problems.append((chapter / f"{utterance}.flac", reason))
        return found, problems

    def __getitem__(self, index: int) -> tuple[Tensor, str] | None:
        waveform = self._read(self.files[index])
        if waveform is None:
            return None
        return waveform, self.transcripts[index]

    def speaker_of(self, index: int) -> str:
        """The speaker id of item ``index``: the utterance id's part before the first ``-``."""
        return self.files[index].stem.split("-", 1)[0]
