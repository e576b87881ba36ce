"""Signal building blocks the bed's instruments and effects are made of."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
from scipy import signal

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
BITS = 12
TABLE_LEN = 1 << BITS  # wavetable length; nearest-sample lookup keeps the error near -60 dB


def hz(midi: float) -> float:
    """Equal-tempered frequency of a MIDI note number."""
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def f32(x: npt.ArrayLike) -> F32:
    return np.asarray(x, dtype=np.float32)


def add(out: F32, start: int, buf: F32, gain: float) -> None:
    """Mix `buf` into `out` at sample `start`, clipped to `out`."""
    end = min(len(out), start + len(buf))
    if end > start >= 0:
        out[start:end] += buf[: end - start] * np.float32(gain)


def times(n: int, sr: int) -> F64:
    """The time in seconds of each of n samples."""
    return np.arange(n, dtype=np.float64) / sr


def decay(n: int, sr: int, seconds: float) -> F32:
    return damped(0.0, seconds, sr, n).real.copy()


def damped(f: float, tau: float, sr: int, n: int) -> npt.NDArray[np.complex64]:
    """exp((2 pi i f - 1/tau) t), built as blocks times a block start: no sin or exp per sample."""
    z = complex(-1.0 / (tau * sr), 2.0 * np.pi * f / sr)
    block = 512
    head = np.exp(z * np.arange(block)).astype(np.complex64)
    starts = np.exp(z * block * np.arange(-(-n // block))).astype(np.complex64)
    return np.asarray(np.multiply.outer(starts, head).ravel()[:n], np.complex64)


def phase(f: float, sr: int, n: int, start: float) -> npt.NDArray[np.uint32]:
    """Wavetable indices of an oscillator: a wrapping 32-bit phase accumulator."""
    step = np.uint32(round(f / sr * 2.0**32) % 2**32)
    idx = np.arange(n, dtype=np.uint32)
    idx *= step
    idx += np.uint32(int(start * 2.0**32) % 2**32)
    idx >>= np.uint32(32 - BITS)
    return idx


def noise(rng: np.random.Generator, n: int) -> F32:
    return rng.standard_normal(n, dtype=np.float32)


@functools.lru_cache(maxsize=256)
def _sos(sr: int, btype: str, wn: float | tuple[float, float], order: int) -> F32:
    return np.asarray(signal.butter(order, wn, btype=btype, fs=sr, output="sos"), np.float32)


def butter(x: F32, sr: int, btype: str, freq: float | tuple[float, float], order: int = 2) -> F32:
    """x through a Butterworth filter of this type and corner (or band) frequency."""
    # Clamp below Nyquist so every filter stays valid from 16 kHz up.
    top = 0.45 * sr
    wn: float | tuple[float, float]
    if isinstance(freq, tuple):
        lo = min(freq[0], top * 0.5)
        wn = (lo, min(max(freq[1], lo * 1.5), top))
    else:
        wn = min(freq, top)
    return np.asarray(signal.sosfilt(_sos(sr, btype, wn, order), x), dtype=np.float32)


def sines(sr: int, n: int, partials: list[tuple[float, float, float]]) -> F32:
    """Sum of decaying sines given as (frequency, amplitude, decay seconds), Nyquist-safe."""
    out = np.zeros(n, np.float32)
    for f, amp, tau in partials:
        m = min(n, round(7.0 * tau * sr))  # past 7 time constants a partial is below -60 dB
        if f < 0.45 * sr and m > 0:
            out[:m] += np.float32(amp) * damped(f, tau, sr, m).imag
    return out


def peak1(x: F32) -> F32:
    """x scaled to a peak of 1 (silence stays silent)."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return x / np.float32(peak) if peak > 0 else x


def fade(x: F32, sr: int, seconds: float) -> F32:
    """x faded in and out over `seconds` at each end, in place."""
    k = min(len(x) // 2, round(seconds * sr))
    if k > 0:
        ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
        x[:k] *= ramp
        x[len(x) - k :] *= ramp[::-1]
    return x


def wander(rng: np.random.Generator, n: int, sr: int, rate: float, lo: float, hi: float) -> F32:
    """A random control curve that moves `rate` times a second between lo and hi."""
    points = int(n * rate / sr) + 2
    xs = np.linspace(0.0, n, points)
    return np.interp(np.arange(n), xs, rng.uniform(lo, hi, points)).astype(np.float32)
