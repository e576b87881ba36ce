"""The cast's voices (engines live in dubset_voices): deterministic, resampled to one rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dubset_voices.base import Engine, VoiceError
from dubset_voices.dsp import Audio, resample, shift_voice
from dubset_voices.dsp import trim_silence as _trim_silence
from dubset_voices.engines import ENGINES

__all__ = ["CAST", "LINE_PEAK", "LINE_RMS", "MAX_CHARACTERS", "Audio", "CastMember"]
__all__ += ["ENGINES", "VoiceBank", "VoiceError", "VoiceSpec", "resample", "shift_voice"]


@dataclass(frozen=True)
class VoiceSpec:
    """One voice: an engine's stock voice, optionally pitch/formant shifted."""

    engine: str  # kokoro | openjtalk | piper | festival | espeak
    name: str
    pitch_hz: float = 0.0  # new median pitch (Praat "Change gender"); 0 keeps it
    formant: float = 1.0  # formant shift ratio; 1 keeps it

    @property
    def label(self) -> str:
        base = f"{self.engine}:{self.name}"
        if self.pitch_hz or self.formant != 1.0:
            base += f"+f0={self.pitch_hz:g}Hz,formant={self.formant:g}"
        return base


@dataclass(frozen=True)
class CastMember:
    name: str
    gender: str  # "f" | "m"
    ja: VoiceSpec
    en: VoiceSpec


# The first three are the default cast: two Kokoro voices and the (fast) HTS voice in JA.
CAST: tuple[CastMember, ...] = (
    CastMember("Aoi", "f", VoiceSpec("kokoro", "jf_alpha"), VoiceSpec("festival", "slt")),
    CastMember("Kaito", "m", VoiceSpec("kokoro", "jm_kumo"), VoiceSpec("piper", "joe")),
    CastMember(
        "Mei",
        "f",
        VoiceSpec("openjtalk", "mei_normal"),
        VoiceSpec("piper", "joe", pitch_hz=215.0, formant=1.17),
    ),
    CastMember(
        "Sora",
        "m",
        VoiceSpec("kokoro", "jm_kumo", pitch_hz=165.0, formant=1.15),
        VoiceSpec("festival", "kal"),
    ),
    CastMember("Hana", "f", VoiceSpec("kokoro", "jf_nezumi"), VoiceSpec("espeak", "en-us+f2")),
    CastMember(
        "Takeshi",
        "m",
        VoiceSpec("openjtalk", "mei_normal", pitch_hz=110.0, formant=0.85),
        VoiceSpec("piper", "joe", pitch_hz=85.0, formant=0.9),
    ),
    CastMember(
        "Yui",
        "f",
        VoiceSpec("kokoro", "jf_gongitsune", pitch_hz=290.0, formant=1.1),
        VoiceSpec("festival", "slt", pitch_hz=250.0, formant=1.06),
    ),
    CastMember(
        "Rin",
        "f",
        VoiceSpec("kokoro", "jf_tebukuro", pitch_hz=165.0, formant=0.95),
        VoiceSpec("espeak", "en-us+f4"),
    ),
)
MAX_CHARACTERS = len(CAST)


LINE_RMS = 0.1  # -20 dBFS: every line at one dialogue level, as a mixed show has
LINE_PEAK = 0.9


def _level(audio: Audio, voice: VoiceSpec, text: str) -> Audio:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms < 1e-5:
        raise VoiceError(f"{voice.label} produced silence for {text!r}")
    gain = min(LINE_RMS / rms, LINE_PEAK / float(np.max(np.abs(audio))))
    return (audio * np.float32(gain)).astype(np.float32)


class VoiceBank:
    """Synthesizes (voice, text) once per run, at one sample rate, peak-normalised."""

    def __init__(self, sample_rate: int, engines: dict[str, Callable[[], Engine]] | None = None):
        self.sample_rate = sample_rate
        self._factories = engines or ENGINES
        self._engines: dict[str, Engine] = {}
        self._cache: dict[tuple[VoiceSpec, str], Audio] = {}

    def _engine(self, name: str) -> Engine:
        if name not in self._engines:
            if name not in self._factories:
                raise VoiceError(f"unknown TTS engine {name!r}")
            self._engines[name] = self._factories[name]()
        return self._engines[name]

    def speak(self, voice: VoiceSpec, text: str) -> Audio:
        key = (voice, text)
        if key not in self._cache:
            audio, rate = self._engine(voice.engine).synthesize(text, voice.name)
            audio = _trim_silence(audio, rate)
            if voice.pitch_hz or voice.formant != 1.0:
                audio = shift_voice(audio, rate, voice.pitch_hz, voice.formant)
            audio = resample(audio, rate, self.sample_rate)
            self._cache[key] = _level(audio, voice, text)
        return self._cache[key]

    @property
    def count(self) -> int:
        """How many (voice, text) pairs have been synthesized."""
        return len(self._cache)

    def duration_ms(self, voice: VoiceSpec, text: str) -> int:
        return round(len(self.speak(voice, text)) * 1000 / self.sample_rate)
