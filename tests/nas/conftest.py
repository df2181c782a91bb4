"""Tiny corpora in the three standard layouts, written here with soundfile (independent of our generator).

Each is just learnable enough that a few optimiser steps must lower the loss: keyword classes are
distinct tone chords, denoising pairs are chords with and without white noise, and ASR utterances
are chords whose pattern follows their transcript.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from search_spaces import Architecture, FrontendSpec, InputSpec, OutputSpec, Stage

RATE = 16000
KWS_WORDS = ("yes", "no", "up")


def _chord(frequencies: list[float], seconds: float, rng: np.random.Generator, noise: float = 0.02) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in frequencies) / len(frequencies)
    return (0.5 * tone + noise * rng.standard_normal(t.shape)).astype(np.float32)


@pytest.fixture(scope="session")
def kws_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("speech_commands")
    rng = np.random.default_rng(0)
    validation, testing = [], []
    for label, word in enumerate(KWS_WORDS):
        (root / word).mkdir()
        for speaker in range(8):
            name = f"{word}/{speaker:08x}_nohash_0.wav"
            soundfile.write(root / name, _chord([300 * (label + 1), 450 * (label + 1)], 1.0, rng), RATE)
            if speaker == 6:
                validation.append(name)
            if speaker == 7:
                testing.append(name)
    (root / "validation_list.txt").write_text("\n".join(validation) + "\n")
    (root / "testing_list.txt").write_text("\n".join(testing) + "\n")
    return root


@pytest.fixture(scope="session")
def denoise_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("voicebank")
    rng = np.random.default_rng(1)
    for split, count in (("trainset", 8), ("testset", 3)):
        (root / f"clean_{split}_wav").mkdir()
        (root / f"noisy_{split}_wav").mkdir()
        for index in range(count):
            clean = _chord([220 + 40 * index, 330 + 40 * index], 1.25, rng, noise=0.0)
            noisy = clean + 0.1 * rng.standard_normal(clean.shape).astype(np.float32)
            soundfile.write(root / f"clean_{split}_wav" / f"p{index:03d}_001.wav", clean, RATE)
            soundfile.write(root / f"noisy_{split}_wav" / f"p{index:03d}_001.wav", noisy, RATE)
    return root


ASR_SENTENCES = ("a cat", "the dog", "go up", "no way", "it's on", "we ran")


@pytest.fixture(scope="session")
def asr_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("librispeech")
    rng = np.random.default_rng(2)
    for subset, speaker in (("train-clean-100", 19), ("dev-clean", 84), ("test-clean", 121)):
        chapter = root / subset / str(speaker) / "198"
        chapter.mkdir(parents=True)
        lines = []
        for index, text in enumerate(ASR_SENTENCES):
            utterance = f"{speaker}-198-{index:04d}"
            pieces = [_chord([200 + 25 * (ord(c) - 96)], 0.08, rng) for c in text.replace("'", "z")]
            soundfile.write(chapter / f"{utterance}.flac", np.concatenate(pieces), RATE)
            lines.append(f"{utterance} {text.upper()}")
        (chapter / f"{speaker}-198.trans.txt").write_text("\n".join(lines) + "\n")
    return root


def tiny_architecture(task: str) -> Architecture:
    """Two or three small stages of mixed block types: a few milliseconds per training step.

    ``kws-mel`` and ``asr-mel`` read 16 log-mel bands every 10 ms instead of raw audio.
    """
    if task in ("kws-mel", "asr-mel"):
        frontend = InputSpec(length=16000, frontend=FrontendSpec(mels=16))
        stages = (
            Stage(block="dws", channels=8, num_states=4, stride=2),
            Stage(block="s5", channels=16, num_states=8),
        )
        size = len(KWS_WORDS) if task == "kws-mel" else 28
        return Architecture(task=task.partition("-")[0], input=frontend, output=OutputSpec(size), stages=stages)
    if task == "kws":
        stages = (
            Stage(block="dws", channels=8, num_states=4, stride=4),
            Stage(block="s5", channels=16, num_states=8, stride=4),
        )
        return Architecture(task="kws", input=InputSpec(length=16000), output=OutputSpec(len(KWS_WORDS)), stages=stages)
    if task == "denoise":
        stages = (
            Stage(block="dws", channels=8, num_states=4, stride=4),
            Stage(block="full", channels=8, num_states=4, stride=1),
        )
        return Architecture(task="denoise", input=InputSpec(length=8000), output=OutputSpec(1), stages=stages)
    stages = (
        Stage(block="dws", channels=8, num_states=4, stride=4),
        Stage(block="group", channels=16, num_states=4, groups=2, stride=4),
        Stage(block="s5", channels=16, num_states=8, stride=10),
    )
    return Architecture(task="asr", input=InputSpec(length=16000), output=OutputSpec(28), stages=stages)


@pytest.fixture
def record_figure():
    """Append a :class:`tests.support.figures.Figure` to the reliability table printed at the end of the run."""
    from tests.support.figures import FIGURES

    return FIGURES.append


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.support.figures import FIGURES, FIGURES_PATH, figures_table, update_readme

    if not FIGURES:
        return
    table = figures_table(FIGURES)
    terminalreporter.write_sep("=", "reliability figures (docs/reliability.md)")
    terminalreporter.write_line(table)
    FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_PATH.write_text(table + "\n")
    if update_readme(FIGURES):
        terminalreporter.write_line("(docs/reliability.md's table rewritten from this run)")
