"""Speech data: offline synthetic corpora (``nas.data.synth``) and loaders for the standard layouts
(``nas.data.loaders``: Speech Commands v2, VoiceBank+DEMAND, LibriSpeech)."""
