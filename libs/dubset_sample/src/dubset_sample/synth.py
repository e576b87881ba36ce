"""Vectorised instruments, drums and sound effects that the backing-track composer plays."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import fft as sp_fft
from scipy import signal

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
_BITS = 12
_T = 1 << _BITS  # wavetable length; nearest-sample lookup keeps the error near -60 dB


def hz(midi: float) -> float:
    """Equal-tempered frequency of a MIDI note number."""
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def _f32(x: npt.ArrayLike) -> F32:
    return np.asarray(x, dtype=np.float32)


def add(out: F32, start: int, buf: F32, gain: float) -> None:
    """Mix `buf` into `out` at sample `start`, clipped to `out`."""
    end = min(len(out), start + len(buf))
    if end > start >= 0:
        out[start:end] += buf[: end - start] * np.float32(gain)


# -- building blocks -----------------------------------------------------------------------


def _time(n: int, sr: int) -> F64:
    return np.arange(n, dtype=np.float64) / sr


def _decay(n: int, sr: int, seconds: float) -> F32:
    return _damped(0.0, seconds, sr, n).real.copy()


def _damped(f: float, tau: float, sr: int, n: int) -> npt.NDArray[np.complex64]:
    """exp((2 pi i f - 1/tau) t), built as blocks times a block start: no sin or exp per sample."""
    z = complex(-1.0 / (tau * sr), 2.0 * np.pi * f / sr)
    block = 512
    head = np.exp(z * np.arange(block)).astype(np.complex64)
    starts = np.exp(z * block * np.arange(-(-n // block))).astype(np.complex64)
    return np.asarray(np.multiply.outer(starts, head).ravel()[:n], np.complex64)


def _phase(f: float, sr: int, n: int, start: float) -> npt.NDArray[np.uint32]:
    """Wavetable indices of an oscillator: a wrapping 32-bit phase accumulator."""
    step = np.uint32(round(f / sr * 2.0**32) % 2**32)
    idx = np.arange(n, dtype=np.uint32)
    idx *= step
    idx += np.uint32(int(start * 2.0**32) % 2**32)
    idx >>= np.uint32(32 - _BITS)
    return idx


def _noise(rng: np.random.Generator, n: int) -> F32:
    return rng.standard_normal(n, dtype=np.float32)


@functools.lru_cache(maxsize=256)
def _sos(sr: int, btype: str, wn: float | tuple[float, float], order: int) -> F32:
    return np.asarray(signal.butter(order, wn, btype=btype, fs=sr, output="sos"), np.float32)


def _filter(x: F32, sr: int, btype: str, freq: float | tuple[float, float], order: int = 2) -> F32:
    # Clamp below Nyquist so every filter stays valid from 16 kHz up.
    top = 0.45 * sr
    wn: float | tuple[float, float]
    if isinstance(freq, tuple):
        lo = min(freq[0], top * 0.5)
        wn = (lo, min(max(freq[1], lo * 1.5), top))
    else:
        wn = min(freq, top)
    return np.asarray(signal.sosfilt(_sos(sr, btype, wn, order), x), dtype=np.float32)


def _sines(sr: int, n: int, partials: list[tuple[float, float, float]]) -> F32:
    """Sum of decaying sines given as (frequency, amplitude, decay seconds), Nyquist-safe."""
    out = np.zeros(n, np.float32)
    for f, amp, tau in partials:
        m = min(n, round(7.0 * tau * sr))  # past 7 time constants a partial is below -60 dB
        if f < 0.45 * sr and m > 0:
            out[:m] += np.float32(amp) * _damped(f, tau, sr, m).imag
    return out


def _peak1(x: F32) -> F32:
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return x / np.float32(peak) if peak > 0 else x


def _fade(x: F32, sr: int, seconds: float) -> F32:
    k = min(len(x) // 2, round(seconds * sr))
    if k > 0:
        ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
        x[:k] *= ramp
        x[len(x) - k :] *= ramp[::-1]
    return x


def _wander(rng: np.random.Generator, n: int, sr: int, rate: float, lo: float, hi: float) -> F32:
    """A random control curve that moves `rate` times a second between lo and hi."""
    points = int(n * rate / sr) + 2
    xs = np.linspace(0.0, n, points)
    return np.interp(np.arange(n), xs, rng.uniform(lo, hi, points)).astype(np.float32)


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


def _wavetable(timbre: str, k: int) -> F32:
    spec = np.zeros(_T // 2 + 1, np.complex128)
    spec[1 : k + 1] = -0.5j * _T * _SPECTRA[timbre](np.arange(1.0, k + 1.0))
    return _peak1(np.fft.irfft(spec, _T).astype(np.float32))


# -- sustained instruments: a long cached tone per pitch, enveloped per note ----------------------


@dataclass(frozen=True)
class _Voice:
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


_VOICES = {
    "pad": _Voice("saw", 2600, (-9.0, 0.0, 7.0), 0.45, 0.8, 0.8, 0.9, sweep=True, seconds=9.0),
    "strings": _Voice("strings", 5000, (-6.0, 5.0), 0.3, 0.5, 0.85, 0.6, 0.12, seconds=9.0),
    "drone": _Voice("warm", 1800, (-4.0, 3.0), 1.2, 1.0, 0.9, 1.5, sweep=True, seconds=12.0),
    "organ": _Voice("organ", 6000, (0.0, 3.0), 0.01, 0.3, 0.9, 0.08, seconds=6.0),
    "lead": _Voice("saw", 6500, (-5.0, 5.0), 0.01, 0.25, 0.7, 0.12, 0.22, seconds=4.0),
    "chip": _Voice("square", 7000, (0.0,), 0.003, 0.12, 0.55, 0.05, 0.12, seconds=4.0),
    "flute": _Voice("flute", 5000, (0.0,), 0.06, 0.15, 0.85, 0.12, 0.15, breath=0.04),
    "brass": _Voice("saw", 4500, (-7.0, 6.0), 0.05, 0.3, 0.75, 0.15, 0.1, drive=1.5),
    "bass": _Voice("bass", 1400, (0.0,), 0.004, 0.3, 0.45, 0.05, seconds=3.0),
}

# -- decaying instruments: one cached note per pitch, reverb baked in ----------------------------


def _pluck(f: float, sr: int, rng: np.random.Generator) -> F32:
    # Karplus-Strong sound without the loop: harmonic groups decay faster the higher they sit.
    t60 = float(np.clip(2.4 * (220.0 / f) ** 0.5, 0.5, 3.0))
    n = round(t60 * sr)
    idx = _phase(f, sr, n, 0.0)
    k = max(1, min(40, int(0.45 * sr / f)))
    h = np.arange(1, k + 1)
    amps = np.abs(np.sin(np.pi * h * 0.23)) / h**1.1
    out = np.zeros(n, np.float32)
    for lo, hi, speed in ((1, 2, 1.0), (3, 5, 1.8), (6, 11, 3.5), (12, 40, 8.0)):
        sel = (h >= lo) & (h <= hi)
        if not sel.any():
            break
        spec = np.zeros(_T // 2 + 1, np.complex128)
        spec[h[sel]] = -0.5j * _T * amps[sel]
        table = np.fft.irfft(spec, _T).astype(np.float32)
        out += np.take(table, idx) * _decay(n, sr, t60 / 6.9 / speed)
    pick = _filter(_noise(rng, min(n, sr // 100)), sr, "lowpass", 3000.0)
    out[: len(pick)] += 0.3 * pick * _decay(len(pick), sr, 0.002)
    out[: sr // 500] *= np.linspace(0.0, 1.0, sr // 500, dtype=np.float32)
    return out


def _epiano(f: float, sr: int, _rng: np.random.Generator) -> F32:
    # Two-operator FM: the modulation index falls with the amplitude, so notes mellow as they ring.
    tau = float(np.clip(1.3 * (262.0 / f) ** 0.5, 0.4, 2.5))
    n = round(min(3.5 * tau, 5.0) * sr)
    t = _time(n, sr)
    w = 2.0 * np.pi * f * t
    index = 1.6 * np.exp(-t / 0.3) + 0.25
    out = (np.sin(w + index * np.sin(w)) * np.exp(-t / tau)).astype(np.float32)
    return out + _sines(sr, n, [(14.0 * f, 0.12, 0.02)])


def _marimba(f: float, sr: int, _rng: np.random.Generator) -> F32:
    n = round(1.2 * sr)
    return _sines(sr, n, [(f, 1.0, 0.35), (3.93 * f, 0.35, 0.05), (9.2 * f, 0.12, 0.015)])


def _bell(f: float, sr: int, _rng: np.random.Generator) -> F32:
    return _bell_at(f, sr).copy()


@functools.lru_cache(maxsize=16)
def _bell_at(f: float, sr: int) -> F32:
    # Cached (read-only): chime effects strike the same few bells over and over.
    n = round(3.5 * sr)
    ratios = ((1.0, 1.0, 1.6), (2.0, 0.55, 1.1), (2.76, 0.4, 0.7), (4.07, 0.25, 0.45))
    partials = [(f * r, a, d) for r, a, d in ratios] + [(5.4 * f, 0.2, 0.25)]
    out = _sines(sr, n, partials)
    out[: sr // 1000] *= np.linspace(0.0, 1.0, sr // 1000, dtype=np.float32)
    out.flags.writeable = False
    return out


def _guitar(f: float, sr: int, rng: np.random.Generator) -> F32:
    # Palm-muted power chord (root, fifth, octave) through a soft clipper.
    chord = _pluck(f, sr, rng)[: round(0.45 * sr)]
    for ratio in (1.4983, 2.0):
        chord += 0.8 * _pluck(f * ratio, sr, rng)[: len(chord)]
    chord *= _decay(len(chord), sr, 0.12)
    return _f32(np.tanh(6.0 * _peak1(chord)))


_DECAYING: dict[str, tuple[Callable[[float, int, np.random.Generator], F32], float, bool]] = {
    # name: (synthesis, reverb wet level, damped when the note ends)
    "pluck": (_pluck, 0.35, True),
    "epiano": (_epiano, 0.3, True),
    "marimba": (_marimba, 0.3, False),
    "bell": (_bell, 0.25, False),
    "gtr": (_guitar, 0.12, True),
}

# -- drums -----------------------------------------------------------------------------------


def _kick(sr: int, rng: np.random.Generator) -> F32:
    n = round(0.45 * sr)
    t = _time(n, sr)
    f = 45.0 + rng.uniform(90.0, 130.0) * np.exp(-t / 0.035)
    body = np.sin(2.0 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.22)
    click = _filter(_noise(rng, n), sr, "lowpass", 4000.0) * _decay(n, sr, 0.004)
    return _f32(body + 0.4 * click)


def _snare(sr: int, rng: np.random.Generator) -> F32:
    n = round(0.35 * sr)
    tone = _sines(sr, n, [(rng.uniform(170, 200), 0.6, 0.07), (330.0, 0.3, 0.05)])
    rattle = _filter(_noise(rng, n), sr, "bandpass", (1500.0, 9000.0)) * _decay(n, sr, 0.09)
    return tone + 1.4 * rattle


def _clap(sr: int, rng: np.random.Generator) -> F32:
    n = round(0.3 * sr)
    env = _decay(n, sr, 0.06)
    for lag in (0.0, 0.011, 0.023):
        k = round(lag * sr)
        env[k : k + sr // 200] += 0.8
    return _filter(_noise(rng, n), sr, "bandpass", (900.0, 5000.0)) * env


def _hat(sr: int, rng: np.random.Generator, seconds: float) -> F32:
    n = round(seconds * 4.0 * sr)
    return _filter(_noise(rng, n), sr, "highpass", 7000.0, 4) * _decay(n, sr, seconds)


def _tom(sr: int, rng: np.random.Generator, f0: float) -> F32:
    n = round(0.5 * sr)
    t = _time(n, sr)
    f = f0 * (1.0 + 0.5 * np.exp(-t / 0.05))
    body = np.sin(2.0 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.18)
    return _f32(body + 0.2 * _noise(rng, n) * _decay(n, sr, 0.01))


_DRUMS: dict[str, Callable[[int, np.random.Generator], F32]] = {
    "kick": _kick,
    "snare": _snare,
    "clap": _clap,
    "hat": lambda sr, rng: _hat(sr, rng, 0.035),
    "ohat": lambda sr, rng: _hat(sr, rng, 0.25),
    "crash": lambda sr, rng: _filter(_hat(sr, rng, 1.1), sr, "lowpass", 12000.0),
    "tomh": lambda sr, rng: _tom(sr, rng, 190.0),
    "toml": lambda sr, rng: _tom(sr, rng, 110.0),
}
_DRUM_VARIANTS = 4  # distinct recordings of each drum so repeats are not sample-identical


class Synth:
    """Renders notes of every instrument at one sample rate, caching what it can reuse."""

    def __init__(self, sample_rate: int, rng: np.random.Generator) -> None:
        self.sr = sample_rate
        self._rng = rng
        self._tones: dict[tuple[str, int], F32] = {}
        self._tables: dict[tuple[str, int], F32] = {}
        self._hits: dict[tuple[str, int], F32] = {}
        self._envs: dict[str, F32] = {}
        self._ramps: dict[tuple[int, int], F32] = {}
        self._ir_spectra: dict[int, npt.NDArray[np.complex64]] = {}
        n_ir = round(1.1 * sample_rate)
        tail = _filter(_noise(rng, n_ir), sample_rate, "lowpass", 5000.0)
        ir = tail * _decay(n_ir, sample_rate, 0.3)
        ir[: round(0.012 * sample_rate)] = 0.0  # pre-delay
        self._ir = ir / np.float32(np.sqrt(np.sum(ir.astype(np.float64) ** 2)))

    def note(self, instrument: str, midi: int, n: int) -> F32:
        """A note `n` samples long (drums ignore pitch and length; ringing notes may run over)."""
        if instrument in _VOICES:
            return self._sustained(instrument, midi, n)
        if instrument in _DRUMS:
            return self._cached(instrument, int(self._rng.integers(_DRUM_VARIANTS)))
        buf = self._cached(instrument, midi)
        if not _DECAYING[instrument][2]:
            return buf
        # A player damps the string at note-off; it also spares mixing long silent tails.
        stop = n + round(0.08 * self.sr)
        rel = round(0.15 * self.sr)
        if stop + rel >= len(buf):
            return buf
        out = buf[: stop + rel].copy()
        out[stop:] *= self._ramp(rel)
        return out

    def _cached(self, instrument: str, key: int) -> F32:
        buf = self._hits.get((instrument, key))
        if buf is None:
            if instrument in _DRUMS:
                buf = _peak1(_DRUMS[instrument](self.sr, self._rng))
                wet = 0.25 if instrument in ("snare", "clap", "tomh", "toml") else 0.0
            else:
                make, wet, _ = _DECAYING[instrument]
                buf = _peak1(make(hz(key), self.sr, self._rng))
            if wet > 0:
                buf = self._reverb(buf, wet)
            self._hits[(instrument, key)] = buf
        return buf

    def _reverb(self, dry: F32, wet: float) -> F32:
        size = sp_fft.next_fast_len(len(dry) + len(self._ir) - 1, real=True)
        ir = self._ir_spectra.get(size)
        if ir is None:  # notes of one instrument share lengths, so their IR transforms repeat
            ir = self._ir_spectra[size] = sp_fft.rfft(self._ir, size)
        wet_part = sp_fft.irfft(sp_fft.rfft(dry, size) * ir, size)[: len(dry) + len(self._ir) - 1]
        out = _f32(wet_part) * np.float32(wet)
        out[: len(dry)] += dry
        # Trim the tail once it has fallen 60 dB, so mixing does not add silence.
        loud = np.flatnonzero(np.abs(out) > 1e-3 * float(np.max(np.abs(out))))
        return _peak1(out[: int(loud[-1]) + 1])

    def _table(self, timbre: str, k: int) -> F32:
        table = self._tables.get((timbre, k))
        if table is None:
            table = self._tables[(timbre, k)] = _wavetable(timbre, k)
        return table

    def _tone(self, instrument: str, midi: int, need: int) -> F32:
        tone = self._tones.get((instrument, midi))
        if tone is not None and len(tone) >= need:
            return tone
        # Grown on demand with room to spare: most notes are far shorter than the longest.
        n = max(need + self.sr, round(3.0 * self.sr), 0 if tone is None else 2 * len(tone))
        tone = self._tones[(instrument, midi)] = self._render_tone(_VOICES[instrument], midi, n)
        return tone

    def _render_tone(self, v: _Voice, midi: int, n: int) -> F32:
        sr, f = self.sr, hz(midi)
        t = _time(n, sr)
        k = max(1, min(_T // 2 - 1, int(min(v.limit_hz, 0.45 * sr) / f)))
        bright = self._table(v.timbre, k)
        dark = self._table(v.timbre, max(1, k // 4))
        tone = np.zeros(n, np.float32)
        low = np.zeros(n, np.float32) if v.sweep else tone
        wobble = self._vibrato(t, v.vibrato) if v.vibrato else None
        for cents in v.detune:
            fv = f * 2.0 ** (cents / 1200.0)
            start = self._rng.random()
            if wobble is not None:
                cycles = start + np.cumsum(fv * wobble) / sr
                idx = (cycles * _T).astype(np.uint32) & np.uint32(_T - 1)
            else:
                idx = _phase(fv, sr, n, start)
            tone += np.take(bright, idx)
            if v.sweep:
                low += np.take(dark, idx)
        if v.sweep:
            # The timbre drifts slowly between dull and bright, as a filter sweep would.
            rate = 2.0 * np.pi * self._rng.uniform(0.08, 0.2)
            lfo = _f32(0.5 + 0.5 * np.sin(rate * t + self._rng.uniform(0.0, 6.3)))
            tone -= low
            tone *= lfo
            tone += low
        if v.breath:
            tone += v.breath * _filter(_noise(self._rng, n), sr, "bandpass", (f * 2, f * 6))
        if v.drive:
            tone = _f32(np.tanh(v.drive * _peak1(tone)))
        return _peak1(tone)

    def _vibrato(self, t: F64, semitones: float) -> F64:
        """Frequency multiplier; the vibrato fades in after the attack, as a violinist's does."""
        depth = semitones / 12.0 * np.log(2.0) * np.clip(t / 0.4 - 0.5, 0.0, 1.0)
        wave = _damped(self._rng.uniform(4.8, 5.8), 1e9, self.sr, len(t)).imag
        return np.asarray(1.0 + depth * wave, np.float64)

    def _ramp(self, n: int, power: int = 1) -> F32:
        """A fall from 1 to 0 over n samples (cached: note-offs reuse a few lengths)."""
        ramp = self._ramps.get((n, power))
        if ramp is None:
            ramp = self._ramps[(n, power)] = np.linspace(1.0, 0.0, n, dtype=np.float32) ** power
        return ramp

    def _envelope(self, instrument: str) -> F32:
        env = self._envs.get(instrument)
        if env is None:
            v = _VOICES[instrument]
            t = _time(round((v.attack + 5.0 * v.decay) * self.sr), self.sr)
            fall = v.sustain + (1.0 - v.sustain) * np.exp(-(t - v.attack) / v.decay)
            env = self._envs[instrument] = np.where(t < v.attack, t / v.attack, fall).astype(
                np.float32
            )
        return env

    def _sustained(self, instrument: str, midi: int, n: int) -> F32:
        v = _VOICES[instrument]
        n = max(1, min(n, round(v.seconds * self.sr)))
        rel = round(v.release * self.sr)
        tone = self._tone(instrument, midi, n + rel)
        # Pads start anywhere in their tone so the chorus phases differ on every chord.
        spare = len(tone) - n - rel
        start = int(self._rng.integers(spare + 1)) if v.sweep else 0
        out = tone[start : start + n + rel].copy()
        env = self._envelope(instrument)
        k = min(n, len(env))
        out[:k] *= env[:k]
        out[k:n] *= np.float32(v.sustain)
        level = float(env[n - 1]) if n <= len(env) else v.sustain
        out[n:] *= self._ramp(rel, 2)
        out[n:] *= np.float32(level)
        return out


# -- sound effects ---------------------------------------------------------------------------


def _whoosh(sr: int, rng: np.random.Generator, n: int) -> F32:
    # A band of noise sweeping through the spectrum: each band peaks a little later.
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)
    noise = _noise(rng, n)
    centres = np.geomspace(250.0, 6000.0, 6)
    if rng.random() < 0.4:
        centres = centres[::-1]
    out = np.zeros(n, np.float32)
    for i, c in enumerate(centres):
        peak = 0.3 + 0.4 * i / 5.0
        band = _filter(noise, sr, "bandpass", (c / 1.4, c * 1.4))
        out += band * np.exp(-(((t - peak) / 0.18) ** 2))
    return out


def _impact(sr: int, rng: np.random.Generator, n: int) -> F32:
    t = _time(n, sr)
    boom = np.sin(2.0 * np.pi * np.cumsum(38.0 + 60.0 * np.exp(-t / 0.08)) / sr)
    out = (boom * np.exp(-t / 0.45)).astype(np.float32)
    noise = _noise(rng, n)
    out += 0.8 * _filter(noise, sr, "lowpass", 2500.0) * _decay(n, sr, 0.06)
    out += 0.15 * _filter(noise, sr, "bandpass", (300.0, 3000.0)) * _decay(n, sr, 0.6)
    return _f32(np.tanh(2.0 * _peak1(out)))


def _footsteps(sr: int, rng: np.random.Generator, n: int) -> F32:
    out = np.zeros(n, np.float32)
    step = rng.uniform(0.3, 0.6)
    hard = rng.random() < 0.5
    m = round(0.12 * sr)
    t = 0.05 + rng.uniform(0.0, 0.2)
    while t * sr + m < n:
        noise = _noise(rng, m)
        heel = _filter(noise, sr, "lowpass", 700.0) * _decay(m, sr, 0.02)
        scuff = _filter(noise, sr, "highpass", 2500.0 if hard else 1200.0) * _decay(m, sr, 0.012)
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
    hit = _sines(sr, m, modes) + 0.5 * _noise(rng, m) * _decay(m, sr, 0.003)
    out = np.zeros(n, np.float32)
    gap = rng.uniform(0.16, 0.26)
    for i in range(int(rng.integers(2, 5))):
        add(out, round((0.02 + i * gap * rng.uniform(0.95, 1.05)) * sr), hit, rng.uniform(0.7, 1))
    return out


def _chime(sr: int, rng: np.random.Generator, n: int) -> F32:
    out = np.zeros(n, np.float32)
    if rng.random() < 0.35:
        # The Westminster school chime heard in every anime classroom.
        times, pitches, gains = [0.0, 0.7, 1.4, 2.1], [76, 72, 74, 67], [1.0] * 4
    else:
        k = int(rng.integers(4, 10))
        times = sorted(rng.uniform(0.0, 0.6 * n / sr, k).tolist())
        pitches = rng.choice([84, 86, 88, 91, 93, 96, 98], k).tolist()
        gains = rng.uniform(0.4, 1.0, k).tolist()
    for t, p, g in zip(times, pitches, gains, strict=True):
        add(out, round(t * sr), _bell_at(hz(p), sr), g)
    return out


def _rain(sr: int, rng: np.random.Generator, n: int) -> F32:
    hiss = _filter(_noise(rng, n), sr, "bandpass", (400.0, 6000.0))
    drops = np.zeros(n, np.float32)
    count = int(n / sr * 80)
    drops[rng.integers(0, n, count)] = rng.uniform(-1.5, 1.5, count).astype(np.float32)
    drops = _filter(drops, sr, "bandpass", (1500.0, 5000.0))
    return (hiss * _wander(rng, n, sr, 1.5, 0.7, 1.0) + drops).astype(np.float32)


def _wind(sr: int, rng: np.random.Generator, n: int) -> F32:
    noise = _noise(rng, n)
    out = np.zeros(n, np.float32)
    for lo, hi in ((150.0, 500.0), (400.0, 1200.0)):
        out += _filter(noise, sr, "bandpass", (lo, hi)) * _wander(rng, n, sr, 0.8, 0.1, 1.0)
    return out


def _crowd(sr: int, rng: np.random.Generator, n: int) -> F32:
    # Several unintelligible talkers: formant-band noise gated at syllable rate.
    out = 0.25 * _filter(_noise(rng, n), sr, "bandpass", (300.0, 3000.0))
    for _ in range(8):
        c = rng.uniform(400.0, 1800.0)
        voice = _filter(_noise(rng, n), sr, "bandpass", (c / 1.5, c * 1.5))
        syllables = np.clip(_wander(rng, n, sr, rng.uniform(6.0, 10.0), -0.6, 1.0), 0.0, 1.0)
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
        out = _fade(out, rate, min(1.5, seconds / 4.0))
    if rate != sample_rate:
        g = math.gcd(sample_rate, rate)
        out = _f32(signal.resample_poly(out, sample_rate // g, rate // g))
        out = np.pad(out[:n], (0, max(0, n - len(out))))
    loud = np.abs(out) > 0.01 * float(np.max(np.abs(out)))
    rms = float(np.sqrt(np.mean(np.square(out[loud], dtype=np.float64)))) if loud.any() else 0.0
    return out / np.float32(rms) if rms > 0 else out
