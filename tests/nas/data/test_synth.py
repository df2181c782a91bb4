"""The offline synthetic corpora: eSpeak wrapper, noise, text, the three corpus layouts, determinism, CLI.

Corpora here are tiny (a few words, a few utterances) so the whole file runs in seconds; what is
checked is what loaders and tasks rely on: layout, names, sample rates, lengths, list files,
speaker-disjoint splits, and byte-identical output for a seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nas.data.synth import (
    ASR_SUBSETS,
    ASR_SYMBOLS,
    VOCABULARY,
    ASRConfig,
    DenoiseConfig,
    KWSConfig,
    NoiseFolder,
    Synthesizer,
    babble_noise,
    brown_noise,
    generate_asr,
    generate_denoise,
    generate_kws,
    hum_noise,
    mix_at_snr,
    pink_noise,
    random_sentence,
    resample,
    shared_synthesizer,
    white_noise,
)
from nas.data.synth._audio import active_speech_mask
from nas.data.synth.cli import register
from nas.errors import DatasetError

SR = 16000
TINY_KWS = KWSConfig(per_word=6, speakers=6, words=("yes", "marvin", "backward"), background_seconds=2.0)
TINY_DENOISE = DenoiseConfig(train_utterances=6, test_utterances=3, train_speakers=3, test_speakers=1)
TINY_ASR = ASRConfig(
    train_utterances=6, dev_utterances=3, test_utterances=3, train_speakers=2, dev_speakers=1, test_speakers=1
)


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return shared_synthesizer()


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _welch_db(signal: np.ndarray, segment: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Averaged periodogram (Hann window, 50 % overlap) in dB, with its frequencies in Hz."""
    window = np.hanning(segment)
    starts = range(0, len(signal) - segment + 1, segment // 2)
    power = np.mean([np.abs(np.fft.rfft(signal[s : s + segment] * window)) ** 2 for s in starts], axis=0)
    return np.fft.rfftfreq(segment, 1.0 / SR), 10.0 * np.log10(power + 1e-30)


def _slope_db_per_octave(signal: np.ndarray) -> float:
    frequencies, level = _welch_db(signal)
    band = (frequencies >= 50.0) & (frequencies <= 5000.0)
    slope, _ = np.polyfit(np.log2(frequencies[band]), level[band], 1)
    return float(slope)


def _snr_db(speech: np.ndarray, noise: np.ndarray, active: np.ndarray) -> float:
    return float(10.0 * np.log10(np.sum(speech[active] ** 2.0) / np.sum(noise[active] ** 2.0)))


def _median_f0(audio: np.ndarray, rate: int) -> float:
    """Median autocorrelation pitch over voiced 40 ms frames (60..400 Hz)."""
    frame, estimates = int(0.04 * rate), []
    lags = np.arange(rate // 400, rate // 60)
    for start in range(0, len(audio) - frame, frame):
        chunk = audio[start : start + frame] - audio[start : start + frame].mean()
        if np.sqrt(np.mean(chunk**2)) < 0.02:
            continue
        correlation = np.correlate(chunk, chunk, mode="full")[frame - 1 :]
        best = lags[np.argmax(correlation[lags])]
        if correlation[best] > 0.5 * correlation[0]:
            estimates.append(rate / best)
    return float(np.median(estimates))


# -- eSpeak wrapper ----------------------------------------------------------------------------


def test_speech_is_audible_and_grows_with_the_text(synth: Synthesizer) -> None:
    short = synth.speak("yes", "en-us")
    long = synth.speak("the old man walked to the station before noon with his dog", "en-us")
    assert synth.sample_rate == 22050
    assert short.dtype == np.float32 and long.ndim == 1
    assert np.sqrt(np.mean(short**2)) > 0.01 and np.abs(long).max() <= 1.0
    assert len(long) > 3 * len(short)
    assert 2.0 < len(long) / synth.sample_rate < 6.0
    at_16k = synth.speak("yes", "en-us", target_rate=SR)
    assert abs(len(at_16k) - len(short) * SR / synth.sample_rate) <= 1


def test_speech_depends_only_on_its_arguments(synth: Synthesizer) -> None:
    # eSpeak keeps state between utterances (and Klatt voices use libc's rand): the wrapper resets both.
    voices = ["en-us+f3", "en-gb-x-rp+Reed", "en+klatt4"]
    first = [synth.speak("hello there", voice, seed=3) for voice in voices]
    synth.speak("something else entirely to disturb the state", "en-029+croak", seed=9)
    again = [synth.speak("hello there", voice, seed=3) for voice in reversed(voices)][::-1]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_voices_are_many_and_sound_different(synth: Synthesizer) -> None:
    voices = synth.voices()
    assert len(voices) > 500 and "en-us+f3" in voices and "en-gb-scotland+m2" in voices
    assert not any("whisper" in voice or "robosoft" in voice for voice in voices)
    text = "the quick brown fox jumps over the lazy dog"
    female = _median_f0(synth.speak(text, "en-us+f3"), synth.sample_rate)
    male = _median_f0(synth.speak(text, "en-us+m3"), synth.sample_rate)
    assert female > 1.3 * male
    spectra = []
    for voice in ("en-us", "en-us+f3", "en-gb-scotland+m2", "en+klatt3", "en-029+Annie"):
        audio = synth.speak(text, voice, target_rate=SR)
        spectra.append(_welch_db(audio, 1024)[1])
    distances = [np.mean(np.abs(a - b)) for i, a in enumerate(spectra) for b in spectra[i + 1 :]]
    assert min(distances) > 1.0  # dB, averaged over frequency


def test_bad_voice_and_parameters_are_refused(synth: Synthesizer) -> None:
    with pytest.raises(DatasetError, match="voice"):
        synth.speak("yes", "en-us+nonexistent")
    with pytest.raises(DatasetError, match="rate_wpm"):
        synth.speak("yes", "en-us", rate_wpm=20)
    with pytest.raises(DatasetError, match="empty"):
        synth.speak("  ", "en-us")


def test_resample_keeps_duration_and_tone() -> None:
    tone = np.sin(2 * np.pi * 1000 * np.arange(22050) / 22050).astype(np.float32)
    out = resample(tone, 22050, SR)
    assert len(out) == SR
    frequencies, level = _welch_db(out, 2048)
    assert abs(frequencies[np.argmax(level)] - 1000) < 10


# -- noise ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "slope"), [(white_noise, 0.0), (pink_noise, -3.01), (brown_noise, -6.02)])
def test_noise_has_the_right_spectral_slope(make, slope: float) -> None:
    noise = make(SR * 10, np.random.default_rng(0))
    assert np.sqrt(np.mean(noise.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-4)
    assert _slope_db_per_octave(noise) == pytest.approx(slope, abs=0.3)
    assert np.array_equal(noise, make(SR * 10, np.random.default_rng(0)))


def test_hum_sits_on_mains_harmonics() -> None:
    hum = hum_noise(SR * 4, np.random.default_rng(1))
    frequencies, level = _welch_db(hum, 8192)
    peak = frequencies[np.argmax(level)]  # the strongest line is a harmonic of 50 or 60 Hz (bins are ~2 Hz)
    assert min(abs(peak - 50 * round(peak / 50)), abs(peak - 60 * round(peak / 60))) < 4.0
    assert level[np.argmax(level)] - np.median(level) > 30


def test_babble_is_several_talkers(synth: Synthesizer) -> None:
    voices = ("en-us+f3", "en-gb-scotland+m2", "en+klatt3")
    babble = babble_noise(SR * 2, np.random.default_rng(5), voices)
    assert len(babble) == SR * 2 and np.sqrt(np.mean(babble.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-3)
    # several overlapping talkers leave few silent stretches, unlike one talker
    assert active_speech_mask(babble, SR, floor_db=-30).mean() > 0.8
    assert np.array_equal(babble, babble_noise(SR * 2, np.random.default_rng(5), voices))


@pytest.mark.parametrize("snr", [-5.0, 0.0, 7.5, 20.0])
def test_mixer_hits_the_snr_over_active_speech(synth: Synthesizer, snr: float) -> None:
    speech = synth.speak("the old man walked to the station", "en-us", target_rate=SR)
    noise = pink_noise(len(speech), np.random.default_rng(2))
    mixture = mix_at_snr(speech, noise, snr)
    active = active_speech_mask(speech, SR)
    assert 0.3 < active.mean() < 1.0
    assert _snr_db(mixture.clean, mixture.noise, active) == pytest.approx(snr, abs=0.1)
    assert np.allclose(mixture.noisy, mixture.clean + mixture.noise, atol=1e-6)
    whole = np.ones(len(speech), dtype=bool)
    over_clip = mix_at_snr(speech, noise, snr, active=whole)
    assert _snr_db(over_clip.clean, over_clip.noise, whole) == pytest.approx(snr, abs=0.1)
    assert _snr_db(over_clip.clean, over_clip.noise, active) > snr + 0.2  # pauses no longer dilute the speech


def test_mixer_scales_down_instead_of_clipping() -> None:
    rng = np.random.default_rng(3)
    speech = 0.9 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)
    mixture = mix_at_snr(speech, white_noise(SR, rng), -5.0, active=np.ones(SR, dtype=bool))
    assert mixture.scale < 1.0 and np.abs(mixture.noisy).max() == pytest.approx(0.99, abs=1e-4)
    assert _snr_db(mixture.clean, mixture.noise, np.ones(SR, dtype=bool)) == pytest.approx(-5.0, abs=0.1)


@pytest.fixture
def noise_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "noises"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(4)
    sf.write(folder / "fan.wav", 0.1 * rng.standard_normal((44100 * 3, 2)), 44100)  # stereo, 44.1 kHz
    sf.write(folder / "sub" / "street.flac", 0.1 * rng.standard_normal(8000 // 2), 8000)  # 0.5 s, shorter than asked
    sf.write(folder / "hiss.ogg", 0.05 * rng.standard_normal(22050 * 2), 22050)
    (folder / "notes.txt").write_text("not audio")
    return folder


def test_noise_folder_reads_resamples_and_loops(noise_dir: Path) -> None:
    folder = NoiseFolder(str(noise_dir))
    assert [Path(path).name for path in folder.files] == ["fan.wav", "hiss.ogg", "street.flac"]
    rng = np.random.default_rng(0)
    for _ in range(6):
        excerpt = folder.excerpt(SR, rng)
        assert excerpt.shape == (SR,) and np.sqrt(np.mean(excerpt.astype(np.float64) ** 2)) == pytest.approx(1, 1e-3)
    looped = folder.only(folder.files[2]).excerpt(SR * 2, np.random.default_rng(1))  # 0.5 s file -> 2 s
    assert looped.shape == (SR * 2,)
    kept, held = folder.split(0.34, np.random.default_rng(0))
    assert set(kept.files).isdisjoint(held.files) and len(kept.files) + len(held.files) == 3
    one = NoiseFolder(str(noise_dir), segments=folder.only(folder.files[0]).segments)
    early, late = one.split(0.25, np.random.default_rng(0))
    assert early.segments[0].stop == late.segments[0].start == 0.75


def test_noise_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        NoiseFolder(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no audio file"):
        NoiseFolder(str(tmp_path / "empty"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "bad.wav").write_bytes(b"RIFF not really a wav")
    with pytest.raises(DatasetError, match=r"bad\.wav"):
        NoiseFolder(str(tmp_path / "broken"))


# -- text ----------------------------------------------------------------------------------


def test_sentences_are_short_clean_and_deterministic() -> None:
    rng = np.random.default_rng(0)
    sentences = [random_sentence(rng) for _ in range(2000)]
    assert len(ASR_SYMBOLS) == 28 and set("".join(sentences)) <= set(ASR_SYMBOLS)
    assert all(4 <= len(sentence.split()) <= 14 for sentence in sentences)
    assert all(sentence == " ".join(sentence.split()) for sentence in sentences)  # no stray spaces
    assert {word for sentence in sentences for word in sentence.split()} <= VOCABULARY
    assert len(VOCABULARY) >= 300 and len(set(sentences)) > 1900
    assert any("'" in sentence for sentence in sentences)
    again = np.random.default_rng(0)
    assert sentences[:50] == [random_sentence(again) for _ in range(50)]


# -- corpora -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kws_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kws")
    summary = generate_kws(out, TINY_KWS, progress=False)
    assert summary.files == {"train": 12, "validation": 3, "testing": 3}
    assert summary.total_seconds == 18.0 and summary.bytes > 18 * 32000
    return out


def test_kws_layout_matches_speech_commands(kws_corpus: Path) -> None:
    manifest = json.loads((kws_corpus / "generation.json").read_text())
    assert manifest["complete"] and manifest["config"]["seed"] == 0
    words = sorted(p.name for p in kws_corpus.iterdir() if p.is_dir() and not p.name.startswith("_"))
    assert words == ["backward", "marvin", "yes"]
    clips = sorted(str(p.relative_to(kws_corpus)) for p in kws_corpus.glob("*/*.wav") if "_background" not in str(p))
    assert len(clips) == 18
    for clip in clips:
        assert re.fullmatch(r"[a-z]+/[0-9a-f]{8}_nohash_\d+\.wav", clip)
        info = sf.info(kws_corpus / clip)
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (SR, 1, SR, "PCM_16")
        audio, _ = sf.read(kws_corpus / clip)
        assert np.abs(audio).max() > 0.01
    validation = (kws_corpus / "validation_list.txt").read_text().splitlines()
    testing = (kws_corpus / "testing_list.txt").read_text().splitlines()
    assert len(validation) == len(testing) == 3 and set(validation + testing) <= set(clips)
    assert validation == sorted(validation)
    backgrounds = sorted(p.name for p in (kws_corpus / "_background_noise_").iterdir())
    assert backgrounds == ["babble.wav", "brown_noise.wav", "mains_hum.wav", "pink_noise.wav", "white_noise.wav"]
    assert sf.info(kws_corpus / "_background_noise_" / "babble.wav").frames == 2 * SR
    assert "Speech Commands" in (kws_corpus / "README.txt").read_text()


def test_kws_splits_are_speaker_and_voice_disjoint(kws_corpus: Path) -> None:
    def speakers(paths: list[str]) -> set[str]:
        return {Path(path).name.split("_nohash_")[0] for path in paths}

    validation = speakers((kws_corpus / "validation_list.txt").read_text().splitlines())
    testing = speakers((kws_corpus / "testing_list.txt").read_text().splitlines())
    everyone = speakers([str(p) for p in kws_corpus.glob("[a-z]*/*.wav")])
    train = everyone - validation - testing
    assert validation and testing and train and validation.isdisjoint(testing)
    manifest = json.loads((kws_corpus / "generation.json").read_text())
    variants: dict[str, set[str]] = {}
    for speaker in manifest["speakers"]:
        variants.setdefault(speaker["split"], set()).add(speaker["voice"].partition("+")[2])
    assert variants["train"].isdisjoint(variants["validation"] | variants["testing"])
    assert variants["validation"].isdisjoint(variants["testing"])
    noises = {clip["noise"] for clip in manifest["clips"].values()}
    assert "none" in noises and len(noises) >= 3
    snrs = [clip["snr_db"] for clip in manifest["clips"].values() if clip["snr_db"] is not None]
    assert all(5.0 <= snr <= 30.0 for snr in snrs)


def test_kws_is_byte_identical_per_seed(kws_corpus: Path, tmp_path: Path) -> None:
    generate_kws(tmp_path / "again", TINY_KWS, progress=False)
    assert _files(tmp_path / "again") == _files(kws_corpus)
    other = dataclasses.replace(TINY_KWS, seed=1)
    generate_kws(tmp_path / "other", other, progress=False)
    assert (tmp_path / "other" / "yes").exists()
    assert _files(tmp_path / "other") != _files(kws_corpus)


def test_kws_with_real_noise(noise_dir: Path, tmp_path: Path) -> None:
    config = KWSConfig(
        per_word=4,
        speakers=4,
        words=("no",),
        noise_dir=str(noise_dir),
        noise_kinds=("real",),
        clean_fraction=0.0,
        background_seconds=1.0,
    )
    generate_kws(tmp_path / "kws", config, progress=False)
    manifest = json.loads((tmp_path / "kws" / "generation.json").read_text())
    assert {clip["noise"] for clip in manifest["clips"].values()} == {"real"}
    backgrounds = sorted(p.name for p in (tmp_path / "kws" / "_background_noise_").iterdir())
    assert [name for name in backgrounds if name.startswith("real_")] == [
        "real_00_fan.wav",
        "real_01_hiss.wav",
        "real_02_street.wav",
    ]
    assert sf.info(tmp_path / "kws" / "_background_noise_" / "real_02_street.wav").frames == SR // 2


def test_kws_speeds_up_words_too_long_for_the_window(tmp_path: Path) -> None:
    config = KWSConfig(
        per_word=3, speakers=3, words=("backward",), background_seconds=0.0, word_rate_scale=0.5, max_word_seconds=0.4
    )
    generate_kws(tmp_path, config, progress=False)
    clips = json.loads((tmp_path / "generation.json").read_text())["clips"].values()
    assert all(0.2 < clip["speech_seconds"] <= 0.4 for clip in clips)


@pytest.fixture(scope="module")
def denoise_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("denoise")
    summary = generate_denoise(out, TINY_DENOISE, progress=False)
    assert summary.files == {"train": 6, "test": 3}
    return out


def test_denoise_layout_matches_voicebank_demand(denoise_corpus: Path) -> None:
    for split, count in (("train", 6), ("test", 3)):
        clean = sorted(p.name for p in (denoise_corpus / f"clean_{split}set_wav").iterdir())
        noisy = sorted(p.name for p in (denoise_corpus / f"noisy_{split}set_wav").iterdir())
        assert clean == noisy and len(clean) == count
        assert all(re.fullmatch(r"p\d{3}_\d{3}\.wav", name) for name in clean)
        log = (denoise_corpus / f"log_{split}set.txt").read_text().splitlines()
        assert [line.split()[0] + ".wav" for line in log] == clean
        for line in log:
            name, kind, snr = line.split()
            assert kind in ("white", "pink", "brown", "hum", "babble") and -5.0 <= float(snr) <= 20.0
            clean_audio, rate = sf.read(denoise_corpus / f"clean_{split}set_wav" / f"{name}.wav")
            noisy_audio, noisy_rate = sf.read(denoise_corpus / f"noisy_{split}set_wav" / f"{name}.wav")
            assert rate == noisy_rate == SR and clean_audio.shape == noisy_audio.shape and clean_audio.ndim == 1
            active = active_speech_mask(clean_audio, SR)
            assert _snr_db(clean_audio, noisy_audio - clean_audio, active) == pytest.approx(float(snr), abs=0.2)
    train_speakers = {p.name[:4] for p in (denoise_corpus / "clean_trainset_wav").iterdir()}
    test_speakers = {p.name[:4] for p in (denoise_corpus / "clean_testset_wav").iterdir()}
    assert len(train_speakers) == 3 and len(test_speakers) == 1 and train_speakers.isdisjoint(test_speakers)


def test_denoise_is_deterministic_and_splits_real_noise(denoise_corpus: Path, noise_dir: Path, tmp_path: Path) -> None:
    generate_denoise(tmp_path / "again", TINY_DENOISE, progress=False)
    assert _files(tmp_path / "again") == _files(denoise_corpus)
    config = DenoiseConfig(
        train_utterances=3,
        test_utterances=2,
        train_speakers=1,
        test_speakers=1,
        noise_dir=str(noise_dir),
        noise_kinds=("real",),
    )
    generate_denoise(tmp_path / "real", config, progress=False)
    manifest = json.loads((tmp_path / "real" / "generation.json").read_text())
    train, test = manifest["noise_files"]["train"], manifest["noise_files"]["test"]
    assert train and test and set(train).isdisjoint(test)
    assert {line.split()[1] for line in (tmp_path / "real" / "log_testset.txt").read_text().splitlines()} == {"real"}


@pytest.fixture(scope="module")
def asr_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("asr")
    summary = generate_asr(out, TINY_ASR, progress=False)
    assert summary.files == {"train-clean-100": 6, "dev-clean": 3, "test-clean": 3}
    return out


def test_asr_layout_matches_librispeech(asr_corpus: Path) -> None:
    speakers: dict[str, set[str]] = {}
    for subset in ASR_SUBSETS:
        flacs = sorted((asr_corpus / subset).glob("*/*/*.flac"))
        assert len(flacs) == {"train-clean-100": 6, "dev-clean": 3, "test-clean": 3}[subset]
        speakers[subset] = {flac.parts[-3] for flac in flacs}
        for chapter in {flac.parent for flac in flacs}:
            speaker, chapter_id = chapter.parts[-2:]
            lines = (chapter / f"{speaker}-{chapter_id}.trans.txt").read_text().splitlines()
            ids = sorted(flac.stem for flac in chapter.glob("*.flac"))
            assert [line.split(" ", 1)[0] for line in lines] == ids
            for line in lines:
                utterance, text = line.split(" ", 1)
                assert re.fullmatch(rf"{speaker}-{chapter_id}-\d{{4}}", utterance)
                assert re.fullmatch(r"[A-Z' ]+", text) and 4 <= len(text.split()) <= 14
        for flac in flacs:
            info = sf.info(flac)
            assert (info.format, info.samplerate, info.channels, info.subtype) == ("FLAC", SR, 1, "PCM_16")
            assert info.duration > 0.8
    assert speakers["train-clean-100"].isdisjoint(speakers["dev-clean"] | speakers["test-clean"])
    assert speakers["dev-clean"].isdisjoint(speakers["test-clean"])
    table = [line for line in (asr_corpus / "SPEAKERS.TXT").read_text().splitlines() if not line.startswith(";")]
    assert sorted(line.split("|")[0].strip() for line in table) == sorted(set().union(*speakers.values()))
    assert all(line.split("|")[1].strip() in ("M", "F") for line in table)


def test_asr_is_byte_identical_per_seed(asr_corpus: Path, tmp_path: Path) -> None:
    generate_asr(tmp_path / "again", TINY_ASR, progress=False)
    assert _files(tmp_path / "again") == _files(asr_corpus)


def test_worker_count_does_not_change_the_files(kws_corpus: Path, tmp_path: Path) -> None:
    # two spawned processes, each with its own eSpeak and one torch thread, against one process
    generate_kws(tmp_path / "two", TINY_KWS, workers=2, progress=False)
    assert _files(tmp_path / "two") == _files(kws_corpus)


# -- output folders and CLI ----------------------------------------------------------------


def test_foreign_folders_are_refused_unless_overwrite(tmp_path: Path) -> None:
    config = KWSConfig(per_word=2, speakers=3, words=("up",), background_seconds=0.0)
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="not empty"):
        generate_kws(tmp_path, config, progress=False)
    with pytest.raises(DatasetError, match="not empty"):
        generate_asr(tmp_path, TINY_ASR, progress=False)
    generate_kws(tmp_path, config, overwrite=True, progress=False)
    assert (tmp_path / "mine.txt").read_text() == "keep me" and len(list((tmp_path / "up").iterdir())) == 2
    # a previous output of the same generator is regenerated without --overwrite, stale entries removed
    generate_kws(tmp_path, KWSConfig(per_word=1, speakers=3, words=("go",), background_seconds=0.0), progress=False)
    assert not (tmp_path / "up").exists() and len(list((tmp_path / "go").iterdir())) == 1
    with pytest.raises(DatasetError, match="data denoise"):
        generate_denoise(tmp_path, TINY_DENOISE, progress=False)


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nas.data.synth import _output

    def half_write(path, *args, **kwargs) -> None:
        Path(path).write_bytes(b"RIFF partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(_output.sf, "write", half_write)
    with pytest.raises(KeyboardInterrupt):
        _output.write_audio(tmp_path / "clip.wav", np.zeros(10, np.float32), SR, "WAV")
    assert list(tmp_path.iterdir()) == []


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="centaurus-nas")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_generates_each_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kws = ["data", "kws", "--out", str(tmp_path / "kws"), "--per-word", "2", "--speakers", "3", "--words", "yes,no"]
    kws += ["--background-seconds", "0.5", "--snr-min", "10", "--snr-max", "20", "--seed", "3", "--quiet"]
    assert _cli(kws) == 0
    printed = capsys.readouterr().out
    assert str((tmp_path / "kws").resolve()) in printed and "validation" in printed
    assert sorted(p.name for p in (tmp_path / "kws").iterdir() if p.is_dir()) == ["_background_noise_", "no", "yes"]
    manifest = json.loads((tmp_path / "kws" / "generation.json").read_text())
    assert manifest["config"]["seed"] == 3 and manifest["config"]["snr_db"] == [10.0, 20.0]

    denoise = ["data", "denoise", "--out", str(tmp_path / "dn"), "--train-utterances", "2", "--test-utterances", "1"]
    denoise += ["--train-speakers", "1", "--test-speakers", "1", "--noise-kinds", "white,hum"]
    assert _cli([*denoise, "--snr-min", "-5", "--snr-max", "-1", "--quiet"]) == 0
    assert len(list((tmp_path / "dn" / "noisy_trainset_wav").iterdir())) == 2
    log = (tmp_path / "dn" / "log_trainset.txt").read_text().split()
    assert set(log[1::3]) <= {"white", "hum"} and all(-5 <= float(snr) <= -1 for snr in log[2::3])

    asr = ["data", "asr", "--out", str(tmp_path / "asr"), "--train-utterances", "2", "--dev-utterances", "1"]
    asr += ["--test-utterances", "1", "--train-speakers", "1", "--dev-speakers", "1", "--test-speakers", "1"]
    assert _cli([*asr, "--quiet"]) == 0
    assert len(list((tmp_path / "asr").glob("*/*/*/*.flac"))) == 4
    assert "asr corpus written to" in capsys.readouterr().out

    with pytest.raises(DatasetError, match="per_word"):
        _cli(["data", "kws", "--out", str(tmp_path / "bad"), "--per-word", "0", "--quiet"])
    with pytest.raises(DatasetError, match="snr_db"):
        _cli(["data", "denoise", "--out", str(tmp_path / "bad"), "--snr-min", "30", "--quiet"])
    with pytest.raises(SystemExit):
        _cli(["data", "denoise", "--out", str(tmp_path / "bad"), "--noise-kinds", "thunder"])
    assert not (tmp_path / "bad").exists()
