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
from dubset_separation.core.mapped import Mapped, Readable
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


def incoherent_backing(
    a: Signal, b: Signal, ratio: Fraction, rate: int, *, soft: bool = False
) -> Signal:
    """Backing of a, b being the other track on a's timeline (resampled by ratio). The bed's
    magnitude in a bin is min(a's, b's scaled); the backing takes that share of a's magnitude,
    or with soft its square (a Wiener mask: the dialogue's power is what the bed leaves)."""
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
    share = np.minimum(ma, gain[None, :] * mb) / np.maximum(ma, EPS)
    return stft.inverse(xa * (share**2 if soft else share), len(a))


class SpeechLess:
    """A track less its own speech, by a first magnitude pass against the track it is to split
    (read through the map the other way), so that the second pass takes out the bed and not the
    bed plus this track's dialogue, which the dub times to the same mouth flaps."""

    def __init__(self, track: Readable, against: Mapped, ratio: Fraction) -> None:
        self.track, self.against, self.ratio = track, against, ratio
        self.rate = track.rate

    def read(self, start: int, stop: int, rate: int | None = None) -> Signal:
        rate = rate or self.rate
        pad = rate  # a second of context either side for the bin gains and the STFT edges
        x = self.track.read(start - pad, stop + pad, rate)
        bed = incoherent_backing(x, self.against.read(start - pad, stop + pad, rate),
                                 self.ratio, rate)  # fmt: skip
        covered = self.against.covered(start - pad, stop + pad, rate)
        out: Signal = np.where(covered, bed, x)[pad : pad + stop - start]
        return out
