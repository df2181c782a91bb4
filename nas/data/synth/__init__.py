"""Offline synthetic speech corpora, spoken by eSpeak NG, in the layouts of the real datasets.

``generate_kws`` writes Google Speech Commands v2, ``generate_denoise`` VoiceBank+DEMAND and
``generate_asr`` LibriSpeech layouts, so one loader reads both a synthetic and a downloaded corpus.
Nothing is downloaded: the voices ship in the ``espeakng-loader`` wheel. Same seed and settings give
byte-identical files, whatever the number of worker processes.
"""

from nas.data.synth._corpus import generate_corpus
from nas.data.synth._espeak import ENGLISH_VOICES, Synthesizer, resample, shared_synthesizer
from nas.data.synth._noise import (
    NOISE_KINDS,
    SYNTHETIC_NOISE_KINDS,
    Mixture,
    NoiseFolder,
    NoiseMaker,
    babble_noise,
    brown_noise,
    colored_noise,
    hum_noise,
    mix_at_snr,
    pink_noise,
    white_noise,
)
from nas.data.synth._speakers import Speaker, make_speakers, split_variants
from nas.data.synth._text import ASR_SYMBOLS, VOCABULARY, random_sentence
from nas.data.synth.asr import ASR_SUBSETS, ASRConfig, generate_asr
from nas.data.synth.denoise import DENOISE_SPLITS, DenoiseConfig, generate_denoise
from nas.data.synth.kws import KWS_SPLITS, SPEECH_COMMANDS_WORDS, KWSConfig, generate_kws
from nas.data.synth.summary import CorpusSummary

__all__ = [
    "ASR_SUBSETS",
    "ASR_SYMBOLS",
    "DENOISE_SPLITS",
    "ENGLISH_VOICES",
    "KWS_SPLITS",
    "NOISE_KINDS",
    "SPEECH_COMMANDS_WORDS",
    "SYNTHETIC_NOISE_KINDS",
    "VOCABULARY",
    "ASRConfig",
    "CorpusSummary",
    "DenoiseConfig",
    "KWSConfig",
    "Mixture",
    "NoiseFolder",
    "NoiseMaker",
    "Speaker",
    "Synthesizer",
    "babble_noise",
    "brown_noise",
    "colored_noise",
    "generate_asr",
    "generate_corpus",
    "generate_denoise",
    "generate_kws",
    "hum_noise",
    "make_speakers",
    "mix_at_snr",
    "pink_noise",
    "random_sentence",
    "resample",
    "shared_synthesizer",
    "split_variants",
    "white_noise",
]
