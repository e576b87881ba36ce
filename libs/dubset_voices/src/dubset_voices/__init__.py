"""Stock TTS engines shared by the sample generator and the TTS service."""

from dubset_voices.base import Engine, VoiceError
from dubset_voices.dsp import Audio, median_pitch_hz, resample, shift_voice, stretch, trim_silence
from dubset_voices.engines import ENGINES, EspeakEngine, KokoroEngine, OpenJTalkEngine, PiperEngine
from dubset_voices.festival import FestivalEngine

__all__ = [
    "ENGINES",
    "Audio",
    "Engine",
    "EspeakEngine",
    "FestivalEngine",
    "KokoroEngine",
    "OpenJTalkEngine",
    "PiperEngine",
    "VoiceError",
    "median_pitch_hz",
    "resample",
    "shift_voice",
    "stretch",
    "trim_silence",
]
