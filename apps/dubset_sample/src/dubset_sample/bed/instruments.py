"""The bed's pitched instruments: wavetable voices that sustain and struck notes that decay."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dubset_sample.bed.dsp import (
    F32,
    F64,
    TABLE_LEN,
    butter,
    decay,
    f32,
    noise,
    peak1,
    phase,
    sines,
    times,
)

_ORGAN_BARS = {1: 1.0, 2: 0.7, 3: 0.5, 4: 0.4, 5: 0.15, 8: 0.25}  # drawbars 8' 4' 2 2/3' 2' ...
_SPECTRA: dict[str, Callable[[F64], F64]] = {  # harmonic number -> amplitude
    "saw": lambda h: 1.0 / h,
    "square": lambda h: np.where(h % 2 == 1, 1.0 / h, 0.0),
    "warm": lambda h: 1.0 / h**1.7,
    "flute": lambda h: np.exp(-(h - 1.0) * 1.2),
    "strings": lambda h: np.exp(-h / 12.0) / h**0.7,
    "bass": lambda h: 1.0 / h**2.4,
    "organ": lambda h: np.array([_ORGAN_BARS.get(int(i), 0.0) for i in h]),
}


def wavetable(timbre: str, k: int) -> F32:
    """One cycle of a timbre with its first k harmonics, peak 1."""
    spec = np.zeros(TABLE_LEN // 2 + 1, np.complex128)
    spec[1 : k + 1] = -0.5j * TABLE_LEN * _SPECTRA[timbre](np.arange(1.0, k + 1.0))
    return peak1(np.fft.irfft(spec, TABLE_LEN).astype(np.float32))


# -- sustained instruments: a long cached tone per pitch, enveloped per note ----------------------


@dataclass(frozen=True)
class Voice:
    """A sustained instrument: its timbre, unison, envelope and colouring."""

    timbre: str
    limit_hz: float  # brightest harmonic kept
    detune: tuple[float, ...]  # cents of each unison oscillator
    attack: float
    decay: float
    sustain: float
    release: float
    vibrato: float = 0.0  # semitones
    breath: float = 0.0
    drive: float = 0.0
    sweep: bool = False  # slow brightness drift, pads only
    seconds: float = 4.0  # the longest note it plays


VOICES = {
    "pad": Voice("saw", 2600, (-9.0, 0.0, 7.0), 0.45, 0.8, 0.8, 0.9, sweep=True, seconds=9.0),
    "strings": Voice("strings", 5000, (-6.0, 5.0), 0.3, 0.5, 0.85, 0.6, 0.12, seconds=9.0),
    "drone": Voice("warm", 1800, (-4.0, 3.0), 1.2, 1.0, 0.9, 1.5, sweep=True, seconds=12.0),
    "organ": Voice("organ", 6000, (0.0, 3.0), 0.01, 0.3, 0.9, 0.08, seconds=6.0),
    "lead": Voice("saw", 6500, (-5.0, 5.0), 0.01, 0.25, 0.7, 0.12, 0.22, seconds=4.0),
    "chip": Voice("square", 7000, (0.0,), 0.003, 0.12, 0.55, 0.05, 0.12, seconds=4.0),
    "flute": Voice("flute", 5000, (0.0,), 0.06, 0.15, 0.85, 0.12, 0.15, breath=0.04),
    "brass": Voice("saw", 4500, (-7.0, 6.0), 0.05, 0.3, 0.75, 0.15, 0.1, drive=1.5),
    "bass": Voice("bass", 1400, (0.0,), 0.004, 0.3, 0.45, 0.05, seconds=3.0),
}

# -- decaying instruments: one cached note per pitch, reverb baked in ----------------------------


def _pluck(f: float, sr: int, rng: np.random.Generator) -> F32:
    # Karplus-Strong sound without the loop: harmonic groups decay faster the higher they sit.
    t60 = float(np.clip(2.4 * (220.0 / f) ** 0.5, 0.5, 3.0))
    n = round(t60 * sr)
    idx = phase(f, sr, n, 0.0)
    k = max(1, min(40, int(0.45 * sr / f)))
    h = np.arange(1, k + 1)
    amps = np.abs(np.sin(np.pi * h * 0.23)) / h**1.1
    out = np.zeros(n, np.float32)
    for lo, hi, speed in ((1, 2, 1.0), (3, 5, 1.8), (6, 11, 3.5), (12, 40, 8.0)):
        sel = (h >= lo) & (h <= hi)
        if not sel.any():
            break
        spec = np.zeros(TABLE_LEN // 2 + 1, np.complex128)
        spec[h[sel]] = -0.5j * TABLE_LEN * amps[sel]
        table = np.fft.irfft(spec, TABLE_LEN).astype(np.float32)
        out += np.take(table, idx) * decay(n, sr, t60 / 6.9 / speed)
    pick = butter(noise(rng, min(n, sr // 100)), sr, "lowpass", 3000.0)
    out[: len(pick)] += 0.3 * pick * decay(len(pick), sr, 0.002)
    out[: sr // 500] *= np.linspace(0.0, 1.0, sr // 500, dtype=np.float32)
    return out


def _epiano(f: float, sr: int, _rng: np.random.Generator) -> F32:
    # Two-operator FM: the modulation index falls with the amplitude, so notes mellow as they ring.
    tau = float(np.clip(1.3 * (262.0 / f) ** 0.5, 0.4, 2.5))
    n = round(min(3.5 * tau, 5.0) * sr)
    t = times(n, sr)
    w = 2.0 * np.pi * f * t
    index = 1.6 * np.exp(-t / 0.3) + 0.25
    out = (np.sin(w + index * np.sin(w)) * np.exp(-t / tau)).astype(np.float32)
    return out + sines(sr, n, [(14.0 * f, 0.12, 0.02)])


def _marimba(f: float, sr: int, _rng: np.random.Generator) -> F32:
    n = round(1.2 * sr)
    return sines(sr, n, [(f, 1.0, 0.35), (3.93 * f, 0.35, 0.05), (9.2 * f, 0.12, 0.015)])


def _bell(f: float, sr: int, _rng: np.random.Generator) -> F32:
    return bell_at(f, sr).copy()


@functools.lru_cache(maxsize=16)
def bell_at(f: float, sr: int) -> F32:
    """A struck bell at f Hz, read-only."""
    # Cached: chime effects strike the same few bells over and over.
    n = round(3.5 * sr)
    ratios = ((1.0, 1.0, 1.6), (2.0, 0.55, 1.1), (2.76, 0.4, 0.7), (4.07, 0.25, 0.45))
    partials = [(f * r, a, d) for r, a, d in ratios] + [(5.4 * f, 0.2, 0.25)]
    out = sines(sr, n, partials)
    out[: sr // 1000] *= np.linspace(0.0, 1.0, sr // 1000, dtype=np.float32)
    out.flags.writeable = False
    return out


def _guitar(f: float, sr: int, rng: np.random.Generator) -> F32:
    # Palm-muted power chord (root, fifth, octave) through a soft clipper.
    chord = _pluck(f, sr, rng)[: round(0.45 * sr)]
    for ratio in (1.4983, 2.0):
        chord += 0.8 * _pluck(f * ratio, sr, rng)[: len(chord)]
    chord *= decay(len(chord), sr, 0.12)
    return f32(np.tanh(6.0 * peak1(chord)))


DECAYING: dict[str, tuple[Callable[[float, int, np.random.Generator], F32], float, bool]] = {
    # name: (synthesis, reverb wet level, damped when the note ends)
    "pluck": (_pluck, 0.35, True),
    "epiano": (_epiano, 0.3, True),
    "marimba": (_marimba, 0.3, False),
    "bell": (_bell, 0.25, False),
    "gtr": (_guitar, 0.12, True),
}
