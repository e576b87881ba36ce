"""Dual-dub by magnitude, for two beds alike in sound but not sample for sample.

A speed change made with pitch correction (ffmpeg atempo-like time stretching) splices the bed
anew: read back through the time map (resampled by the speed ratio) the other track lines up in
time but is pitched by the ratio and its phases wander, so the coherent dual-dub fit finds no
peak. Its magnitudes still match once the frequency axis is scaled back by the ratio: the backing
of a bin is at most what the other track (scaled by the bin's gain) holds there.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from dubset_separation.core.audio import Signal
from dubset_separation.core.stft import Stft, fft_size

EPS = 1e-12


def unpitch(magnitude: np.ndarray, ratio: Fraction) -> np.ndarray:
    """Frames x bins magnitudes of a track resampled by `ratio` (its pitch scaled by ratio)
    with the frequency axis scaled back: bin k takes the value at bin k * ratio."""
    bins = magnitude.shape[1]
    pos = np.arange(bins) * float(ratio)
    lo = np.minimum(np.floor(pos).astype(int), bins - 1)
    hi = np.minimum(lo + 1, bins - 1)
    frac = pos - lo
    out: np.ndarray = magnitude[:, lo] * (1 - frac) + magnitude[:, hi] * frac
    return out


def incoherent_backing(a: Signal, b: Signal, ratio: Fraction, rate: int) -> Signal:
    """Backing of a, b being the other track on a's timeline (resampled by ratio)."""
    stft = Stft(fft_size(rate))
    xa = stft.forward(a)
    ma = np.abs(xa)
    mb = unpitch(np.abs(stft.forward(b))[: len(xa)], ratio)
    if len(mb) < len(xa):
        mb = np.vstack([mb, np.zeros((len(xa) - len(mb), mb.shape[1]))])
    floor = 1e-4 * max(float(ma.max()), EPS)
    both = (ma > floor) & (mb > floor)
    ratios = np.where(both, ma / np.maximum(mb, EPS), np.nan)
    gain = np.nanmedian(ratios, axis=0) if both.any() else np.ones(ma.shape[1])
    gain = np.nan_to_num(gain, nan=0.0)
    bed = np.minimum(ma, gain[None, :] * mb)
    return stft.inverse(xa * (bed / np.maximum(ma, EPS)), len(a))
