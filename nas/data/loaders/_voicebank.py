"""VoiceBank+DEMAND (Valentini-Botinhao et al., 2016): parallel clean and noisy recordings for speech enhancement.

Clean and noisy files share a name (``p232_001.wav``) in sibling folders; the speaker is the prefix. The real
download is 48 kHz and names its training folders after the speaker count (``clean_trainset_28spk_wav``,
``..._56spk_wav``); our generator writes ``clean_trainset_wav``. Both are accepted.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from torch import Tensor

from nas.data.loaders._audio import _AudioCorpus, _screen
from nas.data.loaders._layout import _Layout, _root_path

__all__ = ["VOICEBANK_SPLITS", "VoiceBankDemand"]

VOICEBANK_SPLITS: tuple[str, ...] = ("train", "test")

# Folder-name middles per split, in order of preference: "clean_{middle}_wav" and "noisy_{middle}_wav".
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "train": ("trainset", "trainset_28spk", "trainset_56spk"),
    "test": ("testset",),
}
# A clean and a noisy file whose durations differ by more than this are not a pair (a few samples are normal).
_PAIR_TOLERANCE_S = 0.01

_LAYOUT = _Layout(
    name="VoiceBank+DEMAND",
    tree="\n".join(
        [
            "  ROOT/",
            "    clean_trainset_wav/p226_001.wav ...   (or clean_trainset_28spk_wav/, clean_trainset_56spk_wav/)",
            "    noisy_trainset_wav/p226_001.wav ...   (same names; or noisy_trainset_28spk_wav/, ...)",
            "    clean_testset_wav/p232_001.wav ...",
            "    noisy_testset_wav/p232_001.wav ...",
        ]
    ),
)


def _folder_names(middle: str) -> tuple[str, str]:
    """The (clean, noisy) folder names for one spelling."""
    return f"clean_{middle}_wav", f"noisy_{middle}_wav"


def _pair_folders(root: Path, split: str) -> tuple[Path, Path]:
    """The (clean, noisy) folders of ``split``, whichever accepted spelling is present."""
    complete = [
        (root / clean, root / noisy)
        for clean, noisy in map(_folder_names, _SPELLINGS[split])
        if (root / clean).is_dir() and (root / noisy).is_dir()
    ]
    if complete:
        if len(complete) > 1:
            others = ", ".join(f"{clean.name}/" for clean, _ in complete[1:])
            warnings.warn(
                f"VoiceBankDemand at {root}: several {split} folders are present; using {complete[0][0].name}/ "
                f"and {complete[0][1].name}/ and ignoring {others}",
                UserWarning,
                stacklevel=3,
            )
        return complete[0]
    for clean, noisy in map(_folder_names, _SPELLINGS[split]):
        if (root / clean).is_dir():
            raise _LAYOUT.error(root, f"found {clean}/ but its partner {noisy}/ is missing")
        if (root / noisy).is_dir():
            raise _LAYOUT.error(root, f"found {noisy}/ but its partner {clean}/ is missing")
    clean, noisy = _folder_names(_SPELLINGS[split][0])
    variants = [name for middle in _SPELLINGS[split][1:] for name in _folder_names(middle)]
    spelled = f" (or {', '.join(variants)})" if variants else ""
    raise _LAYOUT.error(root, f"missing the {split} folders {clean}/ and {noisy}/{spelled}")


class VoiceBankDemand(_AudioCorpus[tuple[Tensor, Tensor] | None]):
    """One split of a VoiceBank+DEMAND folder; items are ``(noisy [1, L], clean [1, L])`` float32.

    Pairs are matched by file name and sorted by it; both sides are resampled to ``sample_rate`` (the real set
    is 48 kHz) and trimmed to the shorter if their lengths differ by a few samples. A file without a partner,
    an unreadable file, or a pair whose durations differ by more than 10 ms is reported in ``skipped``. An item
    whose file fails to read later is ``None`` (see ``collate_pairs``). Batch with ``collate_pairs``, or wrap in
    ``RandomSegments`` for fixed-length training crops.

    Attributes: ``split``, ``files`` (clean paths), ``noisy_files`` (parallel), ``skipped`` (``(path, reason)``).
    """

    _label = "VoiceBankDemand"

    def __init__(self, root: str | os.PathLike[str], split: str, *, sample_rate: int = 16000) -> None:
        folder = _root_path(root)
        super().__init__(folder, sample_rate)
        _LAYOUT.require_choice(folder, "split", split, VOICEBANK_SPLITS)
        self.split = split
        _LAYOUT.require_folder(folder, "the root folder")
        clean_folder, noisy_folder = _pair_folders(folder, split)
        self.clean_folder = clean_folder
        self.noisy_folder = noisy_folder

        clean = {path.name: path for path in sorted(clean_folder.glob("*.wav"))}
        noisy = {path.name: path for path in sorted(noisy_folder.glob("*.wav"))}
        if not clean and not noisy:
            raise _LAYOUT.error(folder, f"no .wav files in {clean_folder.name}/ or {noisy_folder.name}/")
        skipped: list[tuple[Path, str]] = []
        for name in sorted(clean.keys() - noisy.keys()):
            skipped.append((clean[name], f"no file of the same name in {noisy_folder.name}/"))
        for name in sorted(noisy.keys() - clean.keys()):
            skipped.append((noisy[name], f"no file of the same name in {clean_folder.name}/"))
        names = sorted(clean.keys() & noisy.keys())
        good, bad = _screen(path for name in names for path in (clean[name], noisy[name]))
        skipped.extend(bad)

        self.files = []
        self.noisy_files: list[Path] = []
        for name in names:
            if clean[name] not in good or noisy[name] not in good:
                continue
            clean_seconds, noisy_seconds = good[clean[name]].seconds, good[noisy[name]].seconds
            if abs(clean_seconds - noisy_seconds) > _PAIR_TOLERANCE_S:
                skipped.append(
                    (clean[name], f"lasts {clean_seconds:.3f} s but its noisy file lasts {noisy_seconds:.3f} s")
                )
                continue
            self.files.append(clean[name])
            self.noisy_files.append(noisy[name])
        self.skipped = skipped
        if not self.files:
            raise _LAYOUT.error(folder, f"no usable clean/noisy pair in {clean_folder.name}/ and {noisy_folder.name}/")
        self._report_skipped(len(clean.keys() | noisy.keys()))

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor] | None:
        clean = self._read(self.files[index])
        noisy = self._read(self.noisy_files[index])
        if clean is None or noisy is None:
            return None
        length = min(clean.shape[-1], noisy.shape[-1])
        return noisy[..., :length], clean[..., :length]

    def speaker_of(self, index: int) -> str:
        """The speaker of item ``index``: the file name's part before the first ``_`` (``p232``)."""
        return self.files[index].stem.split("_", 1)[0]
