"""The speech-corpus loaders on tiny corpora written into tmp_path: splits, labels, order, resampling,
padding, collation, random crops, the layout errors, and corrupt files being skipped rather than fatal."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from nas.data.loaders import (
    SPEECH_COMMANDS_WORDS,
    CorruptAudioWarning,
    LibriSpeech,
    RandomSegments,
    SpeechCommands,
    VoiceBankDemand,
    collate_classification,
    collate_pairs,
    collate_transcripts,
)
from nas.errors import DatasetError, TaskConfigError

# ---------------------------------------------------------------------------------------------------------------
# Tiny corpora


def _tone(frames: int, rate: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(frames) / rate
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def _write(path: Path, data: np.ndarray, rate: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate)
    return path


def _zero_length(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def _random_bytes(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    return path


def _truncated(path: Path, frames: int, rate: int) -> Path:
    """A file cut off mid-audio: its header still declares ``frames`` frames (libsndfile reads what is left)."""
    _write(path, _tone(frames, rate), rate)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


SC_CLASSES = ("yes", "no", "up")
# word -> {file name: split}; the speaker is the part before _nohash_.
SC_FILES = {
    "yes": {"aaa_nohash_0.wav": "train", "bbb_nohash_0.wav": "validation", "ccc_nohash_0.wav": "test"},
    "no": {"aaa_nohash_1.wav": "train", "ddd_nohash_0.wav": "train", "eee_nohash_0.wav": "validation"},
    "up": {"fff_nohash_0.wav": "test", "ggg_nohash_0.wav": "train"},
    "marvin": {"hhh_nohash_0.wav": "train"},  # not in SC_CLASSES: ignored
}


def _speech_commands(root: Path, *, lists: bool = True) -> Path:
    lines = {"validation": [], "test": []}
    for word, files in SC_FILES.items():
        for name, split in files.items():
            _write(root / word / name, _tone(16000, 16000, 200 + 40 * len(name)), 16000)
            if split != "train":
                lines[split].append(f"{word}/{name}")
    _write(root / "_background_noise_" / "white_noise.wav", _tone(32000, 16000), 16000)
    if lists:
        (root / "validation_list.txt").write_text("\n".join(lines["validation"]) + "\n")
        (root / "testing_list.txt").write_text("\r\n".join(lines["test"]) + "\r\n")
    return root


def _voicebank(root: Path, *, middle: str = "trainset", rate: int = 48000, names: tuple[str, ...] = ()) -> Path:
    names = names or ("p226_001.wav", "p226_002.wav", "p227_001.wav")
    for number, name in enumerate(names):
        frames = rate // 10 * (number + 1)
        clean = _tone(frames, rate, 300.0)
        noisy = clean + np.random.default_rng(number).normal(0, 0.05, frames).astype(np.float32)
        _write(root / f"clean_{middle}_wav" / name, clean, rate)
        _write(root / f"noisy_{middle}_wav" / name, noisy, rate)
    return root


LS_UTTERANCES = {
    # subset -> speaker -> chapter -> [(utterance number, transcript)]
    "dev-clean": {"84": {"121123": [(0, "GO DO YOU HEAR"), (1, "BUT IN LESS THAN FIVE MINUTES")]}},
    "test-clean": {
        "1089": {"134686": [(0, "HE HOPED THERE WOULD BE STEW")]},
        "121": {"121726": [(0, "ALSO A POPULAR CONTRIVANCE"), (1, "A PLAIN SUIT")]},
    },
}


def _librispeech(root: Path, rate: int = 16000) -> Path:
    for subset, speakers in LS_UTTERANCES.items():
        for speaker, chapters in speakers.items():
            for chapter, utterances in chapters.items():
                folder = root / subset / speaker / chapter
                lines = []
                for number, text in utterances:
                    utterance = f"{speaker}-{chapter}-{number:04d}"
                    _write(folder / f"{utterance}.flac", _tone(rate // 5 * (number + 1), rate), rate)
                    lines.append(f"{utterance} {text}")
                (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return root


def _build(cls, *args, **kwargs):
    """Construct a dataset, returning it and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = cls(*args, **kwargs)
    return dataset, caught


def _assert_layout_error(error: pytest.ExceptionInfo[DatasetError], path: Path, layout_head: str, *more: str) -> None:
    message = str(error.value)
    assert str(path) in message
    assert layout_head in message
    assert "\n  ROOT/" in message
    for text in more:
        assert text in message, (text, message)


SC_LAYOUT = "expected a Speech Commands v2 folder:"
VB_LAYOUT = "expected a VoiceBank+DEMAND folder:"
LS_LAYOUT = "expected a LibriSpeech folder:"


# ---------------------------------------------------------------------------------------------------------------
# Speech Commands


def test_speech_commands_splits_labels_and_order(tmp_path: Path) -> None:
    root = _speech_commands(tmp_path / "sc")
    seen: dict[str, set[str]] = {}
    for split in ("train", "validation", "test"):
        dataset, caught = _build(SpeechCommands, root, split, classes=SC_CLASSES)
        assert not caught
        expected = sorted(
            (word, name)
            for word, files in SC_FILES.items()
            for name, file_split in files.items()
            if file_split == split and word in SC_CLASSES
        )
        assert [(path.parent.name, path.name) for path in dataset.files] == expected
        assert dataset.labels == [SC_CLASSES.index(word) for word, _ in expected]
        assert len(dataset) == len(expected)
        assert dataset.skipped == []
        seen[split] = {f"{path.parent.name}/{path.name}" for path in dataset.files}
        for index in range(len(dataset)):
            waveform, label = dataset[index]
            assert waveform.shape == (1, 16000) and waveform.dtype == torch.float32
            assert label == dataset.labels[index]
    assert not (seen["train"] & seen["validation"]) and not (seen["train"] & seen["test"])
    assert not any("_background_noise_" in key or key.startswith("marvin") for keys in seen.values() for key in keys)


def test_speech_commands_default_classes_and_speaker(tmp_path: Path) -> None:
    assert len(SPEECH_COMMANDS_WORDS) == 35
    assert SPEECH_COMMANDS_WORDS[:3] == ("yes", "no", "up") and SPEECH_COMMANDS_WORDS[-1] == "visual"
    assert SPEECH_COMMANDS_WORDS.index("marvin") == 26
    root = _speech_commands(tmp_path / "sc")
    with pytest.warns(UserWarning, match="no folder for 31 of the 35 classes"):
        dataset = SpeechCommands(root, "train")
    words = [path.parent.name for path in dataset.files]
    assert "marvin" in words
    assert dataset.labels == [SPEECH_COMMANDS_WORDS.index(word) for word in words]
    assert dataset.classes == SPEECH_COMMANDS_WORDS
    assert [dataset.speaker_of(index) for index in range(len(dataset))] == [path.name[:3] for path in dataset.files]


def test_speech_commands_pads_crops_resamples_and_averages_channels(tmp_path: Path) -> None:
    root = tmp_path / "sc"
    ramp = np.linspace(-0.5, 0.5, 20000, dtype=np.float32)
    _write(root / "yes" / "long_nohash_0.wav", ramp, 16000)
    _write(root / "yes" / "short_nohash_0.wav", np.full(1000, 0.25, np.float32), 16000)
    _write(root / "no" / "rate_nohash_0.wav", _tone(32000, 32000), 32000)
    stereo = np.stack([np.full(16000, 0.5, np.float32), np.zeros(16000, np.float32)], axis=1)
    _write(root / "no" / "stereo_nohash_0.wav", stereo, 16000)
    (root / "validation_list.txt").write_text("")
    (root / "testing_list.txt").write_text("")
    dataset = SpeechCommands(root, "train", classes=("yes", "no"), length=16000)
    items = {path.stem.split("_")[0]: dataset[index] for index, path in enumerate(dataset.files)}
    long, _ = items["long"]
    assert torch.allclose(long[0], torch.from_numpy(ramp[2000:18000]), atol=1e-4)  # centre crop
    short, _ = items["short"]
    assert torch.allclose(short[0, :1000], torch.full((1000,), 0.25), atol=1e-4)
    assert torch.count_nonzero(short[0, 1000:]) == 0  # zeros appended
    resampled, _ = items["rate"]
    assert resampled.shape == (1, 16000) and resampled[0, -100:].abs().max() > 0.1  # 1 s at 32 kHz -> 16000 samples
    mono, _ = items["stereo"]
    assert torch.allclose(mono, torch.full((1, 16000), 0.25), atol=1e-4)
    small = SpeechCommands(root, "train", classes=("yes",), length=4000, sample_rate=8000)
    assert all(small[index][0].shape == (1, 4000) for index in range(len(small)))


def test_speech_commands_listed_but_missing_file_is_skipped(tmp_path: Path) -> None:
    root = _speech_commands(tmp_path / "sc")
    with (root / "validation_list.txt").open("a") as handle:
        handle.write("yes/zzz_nohash_0.wav\nmarvin/zzz_nohash_0.wav\n")
    dataset, caught = _build(SpeechCommands, root, "validation", classes=SC_CLASSES)
    assert dataset.skipped == [
        (root / "yes" / "zzz_nohash_0.wav", "listed in validation_list.txt but the file does not exist")
    ]
    assert len(dataset) == 2
    assert [warning.category for warning in caught] == [CorruptAudioWarning]


def test_speech_commands_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetError) as error:
        SpeechCommands(missing, "train")
    _assert_layout_error(error, missing, SC_LAYOUT, "does not exist", "validation_list.txt", "yes/")

    root = _speech_commands(tmp_path / "sc")
    with pytest.raises(DatasetError) as error:
        SpeechCommands(root, "dev", classes=SC_CLASSES)
    _assert_layout_error(error, root, SC_LAYOUT, "split='dev'", "'train', 'validation', 'test'")

    (root / "testing_list.txt").unlink()
    with pytest.raises(DatasetError) as error:
        SpeechCommands(root, "train", classes=SC_CLASSES)
    _assert_layout_error(error, root, SC_LAYOUT, "missing testing_list.txt", str(root / "testing_list.txt"))

    empty = tmp_path / "empty"
    for word in SC_CLASSES:
        (empty / word).mkdir(parents=True)
    (empty / "validation_list.txt").write_text("")
    (empty / "testing_list.txt").write_text("")
    with pytest.raises(DatasetError) as error:
        SpeechCommands(empty, "train", classes=SC_CLASSES)
    _assert_layout_error(error, empty, SC_LAYOUT, "no .wav files of split 'train'")

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(DatasetError, match="is not a folder"):
        SpeechCommands(a_file, "train")
    with pytest.raises(DatasetError, match="repeats yes"):
        SpeechCommands(root, "train", classes=("yes", "yes"))
    with pytest.raises(TaskConfigError, match="length: got 0; allowed: a "):
        SpeechCommands(root, "train", length=0)
    with pytest.raises(TaskConfigError, match="sample_rate: got -1; allowed: a "):
        SpeechCommands(root, "train", sample_rate=-1)


def test_speech_commands_skips_corrupt_files_with_one_warning(tmp_path: Path) -> None:
    root = _speech_commands(tmp_path / "sc")
    bad = [
        _zero_length(root / "yes" / "zero_nohash_0.wav"),
        _random_bytes(root / "no" / "noise_nohash_0.wav"),
        _truncated(root / "up" / "cut_nohash_0.wav", 16000, 16000),
    ]
    assert sf.info(str(bad[2])).frames > 0  # libsndfile opens the truncated file without complaint
    dataset, caught = _build(SpeechCommands, root, "train", classes=SC_CLASSES)
    assert sorted(path for path, _ in dataset.skipped) == sorted(bad)
    reasons = {path.name: reason for path, reason in dataset.skipped}
    assert "unreadable header" in reasons["zero_nohash_0.wav"]
    assert "unreadable header" in reasons["noise_nohash_0.wav"]
    assert "truncated" in reasons["cut_nohash_0.wav"]
    assert len(caught) == 1 and caught[0].category is CorruptAudioWarning
    message = str(caught[0].message)
    assert "skipped 3 of 7 files" in message and all(str(path) in message for path in bad)
    assert len(dataset) == 4 and not set(bad) & set(dataset.files)
    assert all(dataset[index] is not None for index in range(len(dataset)))


def test_speech_commands_file_failing_after_construction_gives_none(tmp_path: Path) -> None:
    root = _speech_commands(tmp_path / "sc")
    dataset = SpeechCommands(root, "train", classes=SC_CLASSES)
    broken = dataset.files[1]
    broken.write_bytes(b"not audio any more")
    with pytest.warns(CorruptAudioWarning, match=str(broken)):
        assert dataset[1] is None
    assert [path for path, _ in dataset.skipped] == [broken]
    batch = collate_classification([dataset[0], None, dataset[2]])
    assert batch is not None
    audio, labels = batch
    assert audio.shape == (2, 1, 16000) and labels.dtype == torch.int64
    assert labels.tolist() == [dataset.labels[0], dataset.labels[2]]
    assert collate_classification([None, None]) is None


def test_speech_commands_reads_each_file_once_and_hands_out_copies(tmp_path: Path) -> None:
    """Decoded clips stay in memory (a later epoch does not read the disk), and changing an item never
    changes what the next epoch gets."""
    root = _speech_commands(tmp_path / "sc")
    dataset = SpeechCommands(root, "train", classes=SC_CLASSES)
    uncached = SpeechCommands(root, "train", classes=SC_CLASSES)
    uncached.cache_bytes = 0
    first, _ = dataset[0]
    assert uncached[0] is not None
    first.mul_(0.0)  # a caller that scales in place
    dataset.files[0].write_bytes(b"not audio any more")  # the disk is not read again
    again, _ = dataset[0]
    assert again.abs().max() > 0.1
    with pytest.warns(CorruptAudioWarning, match=str(dataset.files[0])):
        assert uncached[0] is None  # without the cache the broken file is read, and skipped


# ---------------------------------------------------------------------------------------------------------------
# VoiceBank+DEMAND


def test_voicebank_resamples_48k_and_pairs_by_name(tmp_path: Path) -> None:
    root = _voicebank(tmp_path / "vb", middle="testset")
    dataset, caught = _build(VoiceBankDemand, root, "test")
    assert not caught and dataset.skipped == []
    assert [path.name for path in dataset.files] == ["p226_001.wav", "p226_002.wav", "p227_001.wav"]
    assert all(path.parent.name == "clean_testset_wav" for path in dataset.files)
    assert [dataset.speaker_of(index) for index in range(3)] == ["p226", "p226", "p227"]
    for index in range(3):
        noisy, clean = dataset[index]
        assert noisy.shape == clean.shape == (1, 1600 * (index + 1))  # 4800 * (i + 1) frames at 48 kHz -> 16 kHz
        assert noisy.dtype == clean.dtype == torch.float32
        assert not torch.allclose(noisy, clean)
    native, _ = _build(VoiceBankDemand, root, "test", sample_rate=48000)
    assert native[2][1].shape == (1, 14400)


@pytest.mark.parametrize("middle", ["trainset_28spk", "trainset_56spk", "trainset"])
def test_voicebank_accepts_every_train_folder_spelling(tmp_path: Path, middle: str) -> None:
    root = _voicebank(tmp_path / "vb", middle=middle, rate=16000)
    dataset = VoiceBankDemand(root, "train")
    assert len(dataset) == 3 and dataset.clean_folder.name == f"clean_{middle}_wav"


def test_voicebank_unmatched_and_mismatched_files_are_skipped(tmp_path: Path) -> None:
    root = _voicebank(tmp_path / "vb", rate=16000)
    only_clean = _write(root / "clean_trainset_wav" / "p228_001.wav", _tone(1600, 16000), 16000)
    only_noisy = _write(root / "noisy_trainset_wav" / "p228_002.wav", _tone(1600, 16000), 16000)
    _write(root / "clean_trainset_wav" / "p229_001.wav", _tone(1603, 16000), 16000)  # a few samples longer: trimmed
    _write(root / "noisy_trainset_wav" / "p229_001.wav", _tone(1600, 16000), 16000)
    far = _write(root / "clean_trainset_wav" / "p230_001.wav", _tone(16000, 16000), 16000)
    _write(root / "noisy_trainset_wav" / "p230_001.wav", _tone(8000, 16000), 16000)
    corrupt = _zero_length(root / "noisy_trainset_wav" / "p226_002.wav")
    dataset, caught = _build(VoiceBankDemand, root, "train")
    skipped = dict(dataset.skipped)
    assert set(skipped) == {only_clean, only_noisy, far, corrupt}
    assert "noisy_trainset_wav" in skipped[only_clean] and "clean_trainset_wav" in skipped[only_noisy]
    assert "1.000 s" in skipped[far] and "unreadable header" in skipped[corrupt]
    assert [path.name for path in dataset.files] == ["p226_001.wav", "p227_001.wav", "p229_001.wav"]
    assert len(caught) == 1 and caught[0].category is CorruptAudioWarning
    noisy, clean = dataset[2]
    assert noisy.shape == clean.shape == (1, 1600)


def test_voicebank_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetError) as error:
        VoiceBankDemand(missing, "train")
    _assert_layout_error(error, missing, VB_LAYOUT, "does not exist", "clean_testset_wav/")

    root = _voicebank(tmp_path / "vb", rate=16000)
    with pytest.raises(DatasetError) as error:
        VoiceBankDemand(root, "validation")
    _assert_layout_error(error, root, VB_LAYOUT, "split='validation'", "'train', 'test'")

    with pytest.raises(DatasetError) as error:
        VoiceBankDemand(root, "test")
    _assert_layout_error(error, root, VB_LAYOUT, "missing the test folders clean_testset_wav/ and noisy_testset_wav/")

    half = tmp_path / "half"
    (half / "clean_trainset_28spk_wav").mkdir(parents=True)
    with pytest.raises(DatasetError) as error:
        VoiceBankDemand(half, "train")
    _assert_layout_error(error, half, VB_LAYOUT, "noisy_trainset_28spk_wav/ is missing")

    empty = tmp_path / "empty"
    (empty / "clean_testset_wav").mkdir(parents=True)
    (empty / "noisy_testset_wav").mkdir(parents=True)
    with pytest.raises(DatasetError) as error:
        VoiceBankDemand(empty, "test")
    _assert_layout_error(error, empty, VB_LAYOUT, "no .wav files in clean_testset_wav/")


# ---------------------------------------------------------------------------------------------------------------
# LibriSpeech


@pytest.mark.parametrize("parent", [False, True])
def test_librispeech_transcripts_order_and_parent_folder(tmp_path: Path, parent: bool) -> None:
    corpus = _librispeech(tmp_path / "data" / "LibriSpeech" if parent else tmp_path / "data")
    root = tmp_path / "data"
    dataset, caught = _build(LibriSpeech, root, ["test-clean", "dev-clean"])
    assert not caught and dataset.skipped == []
    assert [path.stem for path in dataset.files] == [
        "1089-134686-0000",
        "121-121726-0000",
        "121-121726-0001",
        "84-121123-0000",
        "84-121123-0001",
    ]
    assert dataset.files[0] == corpus / "test-clean" / "1089" / "134686" / "1089-134686-0000.flac"
    assert dataset.transcripts[0] == "he hoped there would be stew"
    assert [dataset.speaker_of(index) for index in range(len(dataset))] == ["1089", "121", "121", "84", "84"]
    waveform, transcript = dataset[4]
    assert waveform.shape == (1, 6400) and waveform.dtype == torch.float32
    assert transcript == "but in less than five minutes"
    single, _ = _build(LibriSpeech, root, "dev-clean", sample_rate=8000)
    assert len(single) == 2 and single[1][0].shape == (1, 3200)


def test_librispeech_missing_transcript_or_audio_is_skipped(tmp_path: Path) -> None:
    root = _librispeech(tmp_path / "ls")
    chapter = root / "dev-clean" / "84" / "121123"
    orphan = _write(chapter / "84-121123-0002.flac", _tone(1600, 16000), 16000)
    with (chapter / "84-121123.trans.txt").open("a") as handle:
        handle.write("84-121123-0009 A LINE WITHOUT AUDIO\n")
    cut = _truncated(chapter / "84-121123-0001.flac", 16000, 16000)
    dataset, caught = _build(LibriSpeech, root, "dev-clean")
    skipped = dict(dataset.skipped)
    assert set(skipped) == {orphan, chapter / "84-121123-0009.flac", cut}
    assert "no line for 84-121123-0002" in skipped[orphan]
    assert "file is missing" in skipped[chapter / "84-121123-0009.flac"]
    assert [path.stem for path in dataset.files] == ["84-121123-0000"]
    assert len(caught) == 1 and caught[0].category is CorruptAudioWarning


def test_librispeech_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetError) as error:
        LibriSpeech(missing, "dev-clean")
    _assert_layout_error(error, missing, LS_LAYOUT, "does not exist", "19-198.trans.txt")

    root = _librispeech(tmp_path / "ls")
    with pytest.raises(DatasetError) as error:
        LibriSpeech(root, ["dev-clean", "train-clean-100"])
    _assert_layout_error(error, root, LS_LAYOUT, "missing subset folder train-clean-100/", str(root / "LibriSpeech"))

    (root / "dev-other" / "1" / "2").mkdir(parents=True)
    with pytest.raises(DatasetError) as error:
        LibriSpeech(root, "dev-other")
    _assert_layout_error(error, root, LS_LAYOUT, "no .flac files under dev-other/")

    with pytest.raises(DatasetError, match="subsets is empty"):
        LibriSpeech(root, [])
    with pytest.raises(DatasetError, match="repeats dev-clean"):
        LibriSpeech(root, ["dev-clean", "dev-clean"])


_CORRUPTIONS = {
    "zero-length": lambda path, rate: _zero_length(path),
    "random-bytes": lambda path, rate: _random_bytes(path),
    "truncated": lambda path, rate: _truncated(path, rate, rate),
}


@pytest.mark.parametrize("kind", sorted(_CORRUPTIONS))
def test_voicebank_and_librispeech_skip_each_kind_of_corrupt_file(tmp_path: Path, kind: str) -> None:
    vb_root = _voicebank(tmp_path / "vb", middle="testset")
    bad_wav = _CORRUPTIONS[kind](vb_root / "clean_testset_wav" / "p226_002.wav", 48000)
    voicebank, caught = _build(VoiceBankDemand, vb_root, "test")
    assert [path for path, _ in voicebank.skipped] == [bad_wav]
    assert len(caught) == 1 and str(bad_wav) in str(caught[0].message)
    assert [path.name for path in voicebank.files] == ["p226_001.wav", "p227_001.wav"]

    ls_root = _librispeech(tmp_path / "ls")
    bad_flac = _CORRUPTIONS[kind](ls_root / "test-clean" / "121" / "121726" / "121-121726-0001.flac", 16000)
    librispeech, caught = _build(LibriSpeech, ls_root, "test-clean")
    assert [path for path, _ in librispeech.skipped] == [bad_flac]
    assert len(caught) == 1 and str(bad_flac) in str(caught[0].message)
    assert len(librispeech) == 2 and all(librispeech[index] is not None for index in range(2))


def test_voicebank_nan_audio_gives_none_item_and_prefers_plain_folder_names(tmp_path: Path) -> None:
    root = _voicebank(tmp_path / "vb", rate=16000)
    _voicebank(root, middle="trainset_28spk", rate=16000, names=("p300_001.wav",))
    nan = root / "noisy_trainset_wav" / "p227_001.wav"
    sf.write(str(nan), np.full(4800, np.nan, np.float32), 16000, subtype="FLOAT")
    dataset, caught = _build(VoiceBankDemand, root, "train")
    assert dataset.clean_folder.name == "clean_trainset_wav" and len(dataset) == 3
    assert len(caught) == 1 and "clean_trainset_28spk_wav/" in str(caught[0].message)
    with pytest.warns(CorruptAudioWarning, match="NaN"):
        assert dataset[2] is None
    assert dataset.skipped == [(nan, "contains NaN or infinite samples")]


# ---------------------------------------------------------------------------------------------------------------
# Collation and random segments


def test_collate_pairs_pads_to_multiple(tmp_path: Path) -> None:
    dataset = VoiceBankDemand(_voicebank(tmp_path / "vb", middle="testset"), "test")
    items = [dataset[0], None, dataset[2]]
    noisy, clean, lengths = collate_pairs(items, multiple_of=1000)
    assert noisy.shape == clean.shape == (2, 1, 5000)
    assert lengths.tolist() == [1600, 4800] and lengths.dtype == torch.int64
    assert torch.equal(clean[0, :, :1600], dataset[0][1]) and torch.count_nonzero(clean[0, :, 1600:]) == 0
    assert collate_pairs(items)[0].shape == (2, 1, 4800)
    assert collate_pairs([None]) is None
    with pytest.raises(TaskConfigError, match="multiple_of: got 0; allowed: a "):
        collate_pairs(items, multiple_of=0)

    loader = DataLoader(dataset, batch_size=2, collate_fn=functools.partial(collate_pairs, multiple_of=64))
    shapes = [batch[0].shape for batch in loader]
    assert shapes == [(2, 1, 3200), (1, 1, 4800)]


def test_collate_transcripts(tmp_path: Path) -> None:
    dataset = LibriSpeech(_librispeech(tmp_path / "ls"), "test-clean")
    audio, lengths, transcripts = collate_transcripts([dataset[0], dataset[2], None], multiple_of=3000)
    assert audio.shape == (2, 1, 9000) and lengths.tolist() == [3200, 6400]
    assert transcripts == ["he hoped there would be stew", "a plain suit"]
    assert collate_transcripts([]) is None


def test_collate_classification_rejects_mixed_lengths() -> None:
    with pytest.raises(TaskConfigError, match="different lengths"):
        collate_classification([(torch.zeros(1, 10), 0), (torch.zeros(1, 12), 1)])


class _Ramps:
    """Pairs whose clean side is a ramp and whose noisy side is the ramp plus one, to see where a crop started."""

    def __init__(self, lengths: list[int | None]) -> None:
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, index: int):
        length = self.lengths[index]
        if length is None:
            return None
        clean = torch.arange(length, dtype=torch.float32).unsqueeze(0)
        return clean + 1, clean


def test_random_segments_are_deterministic_per_seed_epoch_index() -> None:
    source = _Ramps([5000] * 8 + [300, None])
    segments = RandomSegments(source, segment_length=1000, seed=7)
    first = [segments[index] for index in range(8)]
    starts = [int(clean[0, 0]) for _, clean in first]
    for noisy, clean in first:
        assert noisy.shape == clean.shape == (1, 1000)
        assert torch.equal(noisy - clean, torch.ones(1, 1000))  # same offset on both sides
        assert torch.equal(clean[0], torch.arange(clean[0, 0], clean[0, 0] + 1000))
    assert starts == [int(segments[index][1][0, 0]) for index in range(8)]
    assert starts == [int(RandomSegments(source, 1000, seed=7)[index][1][0, 0]) for index in range(8)]
    assert len(set(starts)) > 1
    segments.set_epoch(1)
    assert starts != [int(segments[index][1][0, 0]) for index in range(8)]
    segments.set_epoch(0)
    assert starts == [int(segments[index][1][0, 0]) for index in range(8)]
    assert starts != [int(RandomSegments(source, 1000, seed=8)[index][1][0, 0]) for index in range(8)]

    noisy, clean = segments[8]
    assert clean.shape == (1, 1000) and torch.equal(clean[0, :300], torch.arange(300.0))
    assert torch.count_nonzero(clean[0, 300:]) == 0 and torch.count_nonzero(noisy[0, 300:]) == 0
    assert segments[9] is None
    assert len(segments) == 10
    with pytest.raises(IndexError):
        segments[10]
    with pytest.raises(TaskConfigError, match="segment_length: got 0; allowed: a "):
        RandomSegments(source, 0, seed=0)
    with pytest.raises(TaskConfigError, match="seed: got -1; allowed: a "):
        RandomSegments(source, 10, seed=-1)


def test_random_segments_over_voicebank_in_a_loader(tmp_path: Path) -> None:
    dataset = VoiceBankDemand(_voicebank(tmp_path / "vb", middle="testset"), "test")
    segments = RandomSegments(dataset, segment_length=2000, seed=0)
    loader = DataLoader(segments, batch_size=3, collate_fn=collate_pairs)
    noisy, clean, lengths = next(iter(loader))
    assert noisy.shape == clean.shape == (3, 1, 2000) and lengths.tolist() == [2000] * 3
    assert torch.count_nonzero(clean[0, 0, 1600:]) == 0  # the 1600-sample pair was padded


def test_paths_may_be_strings_with_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    _librispeech(tmp_path / "ls")
    dataset = LibriSpeech(os.path.join("~", "ls"), "dev-clean")
    assert len(dataset) == 2 and dataset.root == tmp_path / "ls"
