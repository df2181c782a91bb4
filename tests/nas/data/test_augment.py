"""Keyword augmentation: reproducible per (seed, epoch, index), shifts and scales the word, and mixes
background noise at an SNR inside the requested range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from nas.data.augment import KeywordAugment, background_noise


class _Tones(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int):
        if index == 3:
            return None
        wave = torch.zeros(1, 16000)
        wave[0, 6000:10000] = torch.sin(torch.arange(4000) * 0.1 * (index + 1) + 0.5)
        return wave, index


def test_draws_depend_only_on_seed_epoch_and_index() -> None:
    first, again = KeywordAugment(_Tones(), seed=1), KeywordAugment(_Tones(), seed=1)
    assert torch.equal(first[0][0], again[0][0])
    other_epoch = KeywordAugment(_Tones(), seed=1)
    other_epoch.set_epoch(1)
    assert not torch.equal(first[0][0], other_epoch[0][0])
    assert first[3] is None and first[2][1] == 2


def test_without_noise_it_is_a_shift_and_a_gain() -> None:
    augmented, _ = KeywordAugment(_Tones(), seed=3, max_shift=1600)[1]
    original, _ = _Tones()[1]
    nonzero = torch.nonzero(augmented[0]).flatten()
    shift = int(nonzero[0]) - 6000
    assert abs(shift) <= 1600 and int(nonzero[-1]) - int(nonzero[0]) == 3999
    gain = augmented[0, 6000 + shift + 5] / original[0, 6005]
    assert 10 ** (-6 / 20) - 1e-6 <= float(gain) <= 10 ** (6 / 20) + 1e-6
    torch.testing.assert_close(augmented[0, 6000 + shift : 10000 + shift], gain * original[0, 6000:10000])


def test_noise_is_mixed_at_an_snr_in_range() -> None:
    noise = [torch.randn(48000)]
    clean = KeywordAugment(_Tones(), seed=5, noise_probability=0.0)
    noisy = KeywordAugment(_Tones(), seed=5, noise=noise, noise_probability=1.0, snr_db=(10.0, 12.0))
    for index in range(3):
        signal, added = clean[index][0], noisy[index][0] - clean[index][0]
        snr = 10 * torch.log10(signal.pow(2).sum() / added.pow(2).sum())
        assert 10.0 - 1e-3 <= float(snr) <= 12.0 + 1e-3


def test_background_noise_reads_the_speech_commands_folder(tmp_path: Path) -> None:
    assert background_noise(tmp_path) == []
    folder = tmp_path / "_background_noise_"
    folder.mkdir()
    soundfile.write(folder / "a.wav", np.random.default_rng(0).normal(size=(8000, 2)) * 0.1, 8000)
    (folder / "broken.wav").write_bytes(b"not audio")
    clips = background_noise(tmp_path, sample_rate=16000)
    assert len(clips) == 1 and clips[0].shape == (16000,)


@pytest.mark.parametrize("seed", [0, 1])
def test_augmented_items_keep_shape_and_dtype(seed: int) -> None:
    wave, label = KeywordAugment(_Tones(), seed=seed, noise=[torch.randn(100)])[0]
    assert wave.shape == (1, 16000) and wave.dtype == torch.float32 and label == 0
