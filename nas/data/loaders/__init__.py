"""Torch datasets for the standard speech-corpus layouts the tasks train on, and their batching.

``SpeechCommands`` (keyword spotting), ``VoiceBankDemand`` (denoising) and ``LibriSpeech`` (recognition) read
the folders as the official downloads extract them, and as our generator writes them. Every constructor
checks its folder and raises a DatasetError that draws the expected layout; unreadable files are skipped,
listed in ``skipped`` and summarised in one CorruptAudioWarning, and never stop training.
"""

from nas.data.loaders._audio import CorruptAudioWarning
from nas.data.loaders._collate import RandomSegments, collate_classification, collate_pairs, collate_transcripts
from nas.data.loaders._librispeech import LIBRISPEECH_SUBSETS, LibriSpeech
from nas.data.loaders._speech_commands import SPEECH_COMMANDS_SPLITS, SPEECH_COMMANDS_WORDS, SpeechCommands
from nas.data.loaders._voicebank import VOICEBANK_SPLITS, VoiceBankDemand

__all__ = [
    "LIBRISPEECH_SUBSETS",
    "SPEECH_COMMANDS_SPLITS",
    "SPEECH_COMMANDS_WORDS",
    "VOICEBANK_SPLITS",
    "CorruptAudioWarning",
    "LibriSpeech",
    "RandomSegments",
    "SpeechCommands",
    "VoiceBankDemand",
    "collate_classification",
    "collate_pairs",
    "collate_transcripts",
]
