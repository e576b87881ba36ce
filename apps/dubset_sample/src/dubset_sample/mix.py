"""Stems and mixes: lines placed on a timeline, the shared bed under them (pure numpy)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

Audio = npt.NDArray[np.float32]

MUSIC_UNDER_DIALOGUE_DB = 12.0  # bed RMS below the dialogue level while people talk
INTRO_UNDER_DIALOGUE_DB = 4.0  # an opening theme plays up front, nobody talks over it
MAX_PEAK = 0.98


def samples(ms: int, rate: int) -> int:
    return round(ms * rate / 1000)


def place(clips: Iterable[tuple[int, Audio]], total_ms: int, rate: int) -> Audio:
    """Sum clips (start in ms, audio) into a silent track of total_ms."""
    out = np.zeros(samples(total_ms, rate), np.float32)
    for start_ms, audio in clips:
        at = samples(start_ms, rate)
        if at < 0 or at + len(audio) > len(out):
            raise ValueError(f"a clip at {start_ms} ms runs outside the {total_ms} ms track")
        out[at : at + len(audio)] += audio
    return out


def db_gain(db: float) -> np.float32:
    return np.float32(10.0 ** (db / 20.0))


def backing_track(intro: Audio, bed: Audio, dialogue_rms: float) -> Audio:
    """The bed as it sits in one language's mix: its own intro (may be empty), then the bed."""
    intro_gain = dialogue_rms * float(db_gain(-INTRO_UNDER_DIALOGUE_DB)) / _rms(intro, 1.0)
    bed_gain = dialogue_rms * float(db_gain(-MUSIC_UNDER_DIALOGUE_DB)) / _rms(bed, 1.0)
    return np.concatenate([intro * np.float32(intro_gain), bed * np.float32(bed_gain)])


def pink_noise(n: int, rng: np.random.Generator) -> Audio:
    """1/f noise by shaping white noise in the frequency domain, unit RMS."""
    if n == 0:
        return np.zeros(0, np.float32)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return (noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)


def headroom(tracks: Iterable[Audio]) -> np.float32:
    """One gain for every stem of both languages so no mix clips (keeps the bed shared)."""
    peak = max((float(np.max(np.abs(t))) for t in tracks if t.size), default=0.0)
    return np.float32(1.0 if peak <= MAX_PEAK else MAX_PEAK / peak)


def _rms(audio: Audio, default: float) -> float:
    if audio.size == 0:
        return default
    value = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return value if value > 1e-9 else default


def to_pcm16(audio: Audio) -> npt.NDArray[np.int16]:
    return np.asarray(np.clip(np.round(audio * 32767.0), -32768, 32767), np.int16)
