"""A short-time Fourier transform pair with exact weighted overlap-add inversion."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Spec = NDArray[np.complex128]


def fft_size(rate: int) -> int:
    """About 64 ms: 1024 at 16 kHz, 4096 at 48 kHz (a power of two)."""
    return int(2 ** round(np.log2(rate * 0.064)))


class Stft:
    def __init__(self, n_fft: int) -> None:
        self.n_fft = n_fft
        self.hop = n_fft // 4
        self.window = np.hanning(n_fft + 1)[:-1]

    def forward(self, x: NDArray[np.float64]) -> Spec:
        """Frames x freqs; the signal is padded by n_fft on both sides."""
        n, hop = self.n_fft, self.hop
        total = len(x) + 2 * n
        total += (-(total - n)) % hop
        padded = np.zeros(total)
        padded[n : n + len(x)] = x
        frames = sliding_window_view(padded, n)[::hop] * self.window
        return np.fft.rfft(frames, axis=1)

    def inverse(self, spec: Spec, length: int) -> NDArray[np.float64]:
        n, hop = self.n_fft, self.hop
        frames = np.fft.irfft(spec, n=n, axis=1) * self.window
        total = (len(frames) - 1) * hop + n
        out = np.zeros(total)
        norm = np.zeros(total)
        w2 = self.window**2
        for i, frame in enumerate(frames):
            out[i * hop : i * hop + n] += frame
            norm[i * hop : i * hop + n] += w2
        out /= np.maximum(norm, 1e-8)
        return out[n : n + length]
