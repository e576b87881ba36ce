"""The bed's drum kit: each drum a short synthesised hit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dubset_sample.bed.dsp import F32, butter, decay, f32, noise, sines, times


def _kick(sr: int, rng: np.random.Generator) -> F32:
    n = round(0.45 * sr)
    t = times(n, sr)
    f = 45.0 + rng.uniform(90.0, 130.0) * np.exp(-t / 0.035)
    body = np.sin(2.0 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.22)
    click = butter(noise(rng, n), sr, "lowpass", 4000.0) * decay(n, sr, 0.004)
    return f32(body + 0.4 * click)


def _snare(sr: int, rng: np.random.Generator) -> F32:
    n = round(0.35 * sr)
    tone = sines(sr, n, [(rng.uniform(170, 200), 0.6, 0.07), (330.0, 0.3, 0.05)])
    rattle = butter(noise(rng, n), sr, "bandpass", (1500.0, 9000.0)) * decay(n, sr, 0.09)
    return tone + 1.4 * rattle


def _clap(sr: int, rng: np.random.Generator) -> F32:
    n = round(0.3 * sr)
    env = decay(n, sr, 0.06)
    for lag in (0.0, 0.011, 0.023):
        k = round(lag * sr)
        env[k : k + sr // 200] += 0.8
    return butter(noise(rng, n), sr, "bandpass", (900.0, 5000.0)) * env


def _hat(sr: int, rng: np.random.Generator, seconds: float) -> F32:
    n = round(seconds * 4.0 * sr)
    return butter(noise(rng, n), sr, "highpass", 7000.0, 4) * decay(n, sr, seconds)


def _tom(sr: int, rng: np.random.Generator, f0: float) -> F32:
    n = round(0.5 * sr)
    t = times(n, sr)
    f = f0 * (1.0 + 0.5 * np.exp(-t / 0.05))
    body = np.sin(2.0 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.18)
    return f32(body + 0.2 * noise(rng, n) * decay(n, sr, 0.01))


DRUMS: dict[str, Callable[[int, np.random.Generator], F32]] = {
    "kick": _kick,
    "snare": _snare,
    "clap": _clap,
    "hat": lambda sr, rng: _hat(sr, rng, 0.035),
    "ohat": lambda sr, rng: _hat(sr, rng, 0.25),
    "crash": lambda sr, rng: butter(_hat(sr, rng, 1.1), sr, "lowpass", 12000.0),
    "tomh": lambda sr, rng: _tom(sr, rng, 190.0),
    "toml": lambda sr, rng: _tom(sr, rng, 110.0),
}
DRUM_VARIANTS = 4  # distinct recordings of each drum so repeats are not sample-identical
