"""The bed's sound effects: whooshes, impacts, footsteps, knocks, chimes and ambiences."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import signal

from dubset_sample.bed.dsp import (
    F32,
    add,
    butter,
    decay,
    f32,
    fade,
    hz,
    noise,
    peak1,
    sines,
    times,
    wander,
)
from dubset_sample.bed.instruments import bell_at


def _whoosh(sr: int, rng: np.random.Generator, n: int) -> F32:
    # A band of noise sweeping through the spectrum: each band peaks a little later.
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)
    hiss = noise(rng, n)
    centres = np.geomspace(250.0, 6000.0, 6)
    if rng.random() < 0.4:
        centres = centres[::-1]
    out = np.zeros(n, np.float32)
    for i, c in enumerate(centres):
        peak = 0.3 + 0.4 * i / 5.0
        band = butter(hiss, sr, "bandpass", (c / 1.4, c * 1.4))
        out += band * np.exp(-(((t - peak) / 0.18) ** 2))
    return out


def _impact(sr: int, rng: np.random.Generator, n: int) -> F32:
    t = times(n, sr)
    boom = np.sin(2.0 * np.pi * np.cumsum(38.0 + 60.0 * np.exp(-t / 0.08)) / sr)
    out = (boom * np.exp(-t / 0.45)).astype(np.float32)
    hiss = noise(rng, n)
    out += 0.8 * butter(hiss, sr, "lowpass", 2500.0) * decay(n, sr, 0.06)
    out += 0.15 * butter(hiss, sr, "bandpass", (300.0, 3000.0)) * decay(n, sr, 0.6)
    return f32(np.tanh(2.0 * peak1(out)))


def _footsteps(sr: int, rng: np.random.Generator, n: int) -> F32:
    out = np.zeros(n, np.float32)
    step = rng.uniform(0.3, 0.6)
    hard = rng.random() < 0.5
    m = round(0.12 * sr)
    t = 0.05 + rng.uniform(0.0, 0.2)
    while t * sr + m < n:
        hiss = noise(rng, m)
        heel = butter(hiss, sr, "lowpass", 700.0) * decay(m, sr, 0.02)
        scuff = butter(hiss, sr, "highpass", 2500.0 if hard else 1200.0) * decay(m, sr, 0.012)
        s = round(t * sr)
        out[s : s + m] += rng.uniform(0.6, 1.0) * heel
        lag = round(0.035 * sr)
        out[s + lag : s + m] += 0.6 * scuff[: m - lag]
        t += step * rng.uniform(0.9, 1.1)
    return out


def _knock(sr: int, rng: np.random.Generator, n: int) -> F32:
    f0 = rng.uniform(140.0, 280.0)
    m = round(0.25 * sr)
    modes = [(f0 * r, a, d) for r, a, d in ((1.0, 1.0, 0.06), (2.1, 0.6, 0.04), (3.6, 0.4, 0.02))]
    hit = sines(sr, m, modes) + 0.5 * noise(rng, m) * decay(m, sr, 0.003)
    out = np.zeros(n, np.float32)
    gap = rng.uniform(0.16, 0.26)
    for i in range(int(rng.integers(2, 5))):
        add(out, round((0.02 + i * gap * rng.uniform(0.95, 1.05)) * sr), hit, rng.uniform(0.7, 1))
    return out


def _chime(sr: int, rng: np.random.Generator, n: int) -> F32:
    out = np.zeros(n, np.float32)
    if rng.random() < 0.35:
        # The Westminster school chime heard in every anime classroom.
        starts, pitches, gains = [0.0, 0.7, 1.4, 2.1], [76, 72, 74, 67], [1.0] * 4
    else:
        k = int(rng.integers(4, 10))
        starts = sorted(rng.uniform(0.0, 0.6 * n / sr, k).tolist())
        pitches = rng.choice([84, 86, 88, 91, 93, 96, 98], k).tolist()
        gains = rng.uniform(0.4, 1.0, k).tolist()
    for t, p, g in zip(starts, pitches, gains, strict=True):
        add(out, round(t * sr), bell_at(hz(p), sr), g)
    return out


def _rain(sr: int, rng: np.random.Generator, n: int) -> F32:
    hiss = butter(noise(rng, n), sr, "bandpass", (400.0, 6000.0))
    drops = np.zeros(n, np.float32)
    count = int(n / sr * 80)
    drops[rng.integers(0, n, count)] = rng.uniform(-1.5, 1.5, count).astype(np.float32)
    drops = butter(drops, sr, "bandpass", (1500.0, 5000.0))
    return (hiss * wander(rng, n, sr, 1.5, 0.7, 1.0) + drops).astype(np.float32)


def _wind(sr: int, rng: np.random.Generator, n: int) -> F32:
    hiss = noise(rng, n)
    out = np.zeros(n, np.float32)
    for lo, hi in ((150.0, 500.0), (400.0, 1200.0)):
        out += butter(hiss, sr, "bandpass", (lo, hi)) * wander(rng, n, sr, 0.8, 0.1, 1.0)
    return out


def _crowd(sr: int, rng: np.random.Generator, n: int) -> F32:
    # Several unintelligible talkers: formant-band noise gated at syllable rate.
    out = 0.25 * butter(noise(rng, n), sr, "bandpass", (300.0, 3000.0))
    for _ in range(8):
        c = rng.uniform(400.0, 1800.0)
        voice = butter(noise(rng, n), sr, "bandpass", (c / 1.5, c * 1.5))
        syllables = np.clip(wander(rng, n, sr, rng.uniform(6.0, 10.0), -0.6, 1.0), 0.0, 1.0)
        out += voice * syllables
    return out


_EFFECTS: dict[str, Callable[[int, np.random.Generator, int], F32]] = {
    "whoosh": _whoosh,
    "impact": _impact,
    "footsteps": _footsteps,
    "knock": _knock,
    "chime": _chime,
    "rain": _rain,
    "wind": _wind,
    "crowd": _crowd,
}
EFFECT_KINDS = tuple(_EFFECTS)
_AMBIENCES = ("rain", "wind", "crowd")


def effect(kind: str, seconds: float, sample_rate: int, rng: np.random.Generator) -> F32:
    """One sound effect about `seconds` long, scaled to unit RMS over its audible part."""
    n = max(1, round(seconds * sample_rate))
    # Everything but the chimes lives below 8 kHz: render at 16 kHz, then resample, to save time.
    rate = sample_rate if kind == "chime" else min(sample_rate, 16000)
    out = _EFFECTS[kind](rate, rng, max(1, round(seconds * rate)))
    if kind in _AMBIENCES:
        out = fade(out, rate, min(1.5, seconds / 4.0))
    if rate != sample_rate:
        g = math.gcd(sample_rate, rate)
        out = f32(signal.resample_poly(out, sample_rate // g, rate // g))
        out = np.pad(out[:n], (0, max(0, n - len(out))))
    loud = np.abs(out) > 0.01 * float(np.max(np.abs(out)))
    rms = float(np.sqrt(np.mean(np.square(out[loud], dtype=np.float64)))) if loud.any() else 0.0
    return out / np.float32(rms) if rms > 0 else out
