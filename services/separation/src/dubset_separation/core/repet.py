"""REPET-SIM: the backing is what repeats; each frame is modelled by the median of its nearest.

Rafii & Pardo's similarity-matrix REPET suits beds that are not exact loops: every frame's
backing is the element-wise median of the magnitude spectra of the frames most similar to it
(at least MIN_GAP_S away, so the frame's own dialogue does not vote), and a soft mask keeps that
share of the mixture.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dubset_separation.core.stft import Stft, fft_size

NEIGHBOURS = 20
MIN_GAP_S = 1.0
BLOCK_FRAMES = 64
EPS = 1e-10


def repeating_model(mag: NDArray[np.float64], hop_s: float) -> NDArray[np.float64]:
    """Per frame, the median magnitude of its most similar other frames (frames x freqs)."""
    n_frames = len(mag)
    unit = mag / np.maximum(np.linalg.norm(mag, axis=1, keepdims=True), EPS)
    sim = unit @ unit.T
    gap = max(1, round(MIN_GAP_S / hop_s))
    idx = np.arange(n_frames)
    sim[np.abs(idx[:, None] - idx[None, :]) < gap] = -np.inf
    k = max(1, min(NEIGHBOURS, n_frames - 2 * gap))
    model = np.empty_like(mag)
    for lo in range(0, n_frames, BLOCK_FRAMES):
        hi = min(lo + BLOCK_FRAMES, n_frames)
        block = sim[lo:hi]
        nearest = np.argpartition(-block, k - 1, axis=1)[:, :k]
        model[lo:hi] = np.median(mag[nearest], axis=1)
    return np.minimum(model, mag)


def repet_backing(x: NDArray[np.float64], rate: int) -> NDArray[np.float64]:
    """The repeating (backing) part of x, same length."""
    if not np.any(x):
        return np.zeros_like(x)
    stft = Stft(fft_size(rate))
    spec = stft.forward(x)
    mag = np.abs(spec)
    model = repeating_model(mag, stft.hop / rate)
    residual = mag - model
    mask = model**2 / np.maximum(model**2 + residual**2, EPS)
    return stft.inverse(spec * mask, len(x))
