"""Voices: each packaged engine speaks, deterministically; the bank levels and caches lines."""

from __future__ import annotations

import numpy as np
import pytest

from dubset_sample.voices import (
    CAST,
    LINE_PEAK,
    LINE_RMS,
    VoiceBank,
    VoiceError,
    VoiceSpec,
    resample,
    shift_voice,
)


class CountingEngine:
    def __init__(self, audio: np.ndarray, rate: int = 16000) -> None:
        self.audio, self.rate, self.calls = audio, rate, 0

    def synthesize(self, text: str, voice: str) -> tuple[np.ndarray, int]:
        self.calls += 1
        return self.audio, self.rate


def tone(seconds: float, rate: int = 16000, freq: float = 180.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    # A buzzy harmonic tone: something Praat can find a pitch in.
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 12))
    return (amp * wave / np.max(np.abs(wave))).astype(np.float32)


def test_bank_caches_levels_and_resamples() -> None:
    engine = CountingEngine(np.concatenate([np.zeros(1600, np.float32), tone(1.0)]))
    bank = VoiceBank(48000, {"fake": lambda: engine})
    voice = VoiceSpec("fake", "x")
    a = bank.speak(voice, "hello")
    assert bank.speak(voice, "hello") is a and engine.calls == 1 and bank.count == 1
    # Leading silence trimmed (20 ms pad kept), 16 kHz -> 48 kHz.
    assert abs(len(a) - int(1.02 * 48000)) <= 48 * 25
    rms = float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))
    assert rms == pytest.approx(LINE_RMS, rel=0.02) or np.max(np.abs(a)) == pytest.approx(LINE_PEAK)
    assert bank.duration_ms(voice, "hello") == round(len(a) * 1000 / 48000)


def test_silence_and_unknown_engines_are_clear_errors() -> None:
    bank = VoiceBank(48000, {"mute": lambda: CountingEngine(np.zeros(16000, np.float32))})
    with pytest.raises(VoiceError, match="silence"):
        bank.speak(VoiceSpec("mute", "x"), "hello")
    with pytest.raises(VoiceError, match="unknown TTS engine"):
        bank.speak(VoiceSpec("nope", "x"), "hello")


def test_resample_lengths() -> None:
    x = tone(0.5, 22050)
    assert len(resample(x, 22050, 48000)) == pytest.approx(24000, abs=2)
    assert resample(x, 22050, 22050) is not None


def median_f0(audio: np.ndarray, rate: int) -> float:
    import parselmouth

    pitch = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=rate).to_pitch()
    f0 = pitch.selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def test_shift_voice_moves_pitch_and_is_deterministic() -> None:
    x = tone(1.0, 16000, freq=120.0)
    up = shift_voice(x, 16000, 220.0, 1.1)
    assert np.array_equal(up, shift_voice(x, 16000, 220.0, 1.1))
    assert abs(len(up) - len(x)) < 160
    assert median_f0(up, 16000) == pytest.approx(220.0, rel=0.08)


def test_cast_voices_are_unique_per_language() -> None:
    for lang in ("ja", "en"):
        labels = [getattr(m, lang).label for m in CAST]
        assert len(set(labels)) == len(labels)
    assert len({m.name for m in CAST}) == len(CAST)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("voice", "text"),
    [
        (VoiceSpec("kokoro", "jf_alpha"), "今日はいい天気ですね。"),
        (VoiceSpec("openjtalk", "mei_normal"), "今日はいい天気ですね。"),
        (VoiceSpec("piper", "joe"), "What a nice day it is."),
        (VoiceSpec("festival", "slt"), "What a nice day it is."),
        (VoiceSpec("festival", "kal"), "What a nice day it is."),
        (VoiceSpec("espeak", "en-us+f2"), "What a nice day it is."),
        (VoiceSpec("piper", "joe", pitch_hz=215.0, formant=1.17), "What a nice day it is."),
    ],
    ids=lambda v: v.label if isinstance(v, VoiceSpec) else "",
)
def test_real_engines_speak_deterministically(voice: VoiceSpec, text: str) -> None:
    a = VoiceBank(48000).speak(voice, text)
    b = VoiceBank(48000).speak(voice, text)
    assert np.array_equal(a, b)
    seconds = len(a) / 48000
    assert 0.6 < seconds < 4.0
    # Speech, not a click: energy spread over most of the line.
    frames = a[: len(a) // 480 * 480].reshape(-1, 480)
    active = np.mean(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) > 0.01)
    assert active > 0.5
