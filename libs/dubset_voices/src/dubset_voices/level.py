"""Loudness (ITU-R BS.1770), true peak, and look-ahead limiters (sample and true peak)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter, resample_poly

GATE_BLOCK_S = 0.4  # BS.1770 gating block: shorter signals get K-weighted RMS, ungated
SILENT_LUFS = -70.0  # the BS.1770 absolute gate
DEFAULT_DIALOGUE_LUFS = -24.0  # the level a dub gets when the original dialogue is silent
CEILING = 0.98  # sample peak of anything we output
LIMITER_MS = 5.0
OVERSAMPLE = 4  # BS.1770 true peak: the peak of the signal oversampled 4x
Audio = npt.NDArray[np.float32]


def loudness(audio: Audio, rate: int) -> float:
    """Loudness in LUFS: BS.1770 integrated (gated) from 0.4 s, else K-weighted RMS.

    Under 0.4 s the gating blocks do not exist, so the short clip gets the same K-weighting
    (-0.691 + 10 log10 of the mean square) without gates. Silence is -inf.
    """
    x = audio.astype(np.float64)
    if x.size == 0 or not np.any(x):
        return float("-inf")
    if x.size >= GATE_BLOCK_S * rate:
        value = float(pyloudnorm.Meter(rate).integrated_loudness(x))
        return value if np.isfinite(value) else float("-inf")
    high_shelf = pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf")
    high_pass = pyloudnorm.IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")
    weighted = high_pass.apply_filter(high_shelf.apply_filter(x))
    mean_square = float(np.mean(np.square(weighted)))
    return -0.691 + 10 * float(np.log10(mean_square)) if mean_square > 0 else float("-inf")


def match_gain(audio: Audio, rate: int, target_lufs: float) -> float:
    """The linear gain that brings `audio` to `target_lufs` (1.0 when either is silent)."""
    current = loudness(audio, rate)
    if not np.isfinite(current) or not np.isfinite(target_lufs):
        return 1.0
    return float(10 ** ((target_lufs - current) / 20))


def limit(audio: Audio, rate: int, ceiling: float = CEILING) -> Audio:
    """Peak-limit to `ceiling` with a smooth gain (look-ahead min, then moving average).

    The moving average of a moving minimum over twice the window never exceeds the gain each
    sample needs, so the result never passes the ceiling; audio under it is untouched.
    """
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= ceiling:
        return audio.astype(np.float32)
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(audio.astype(np.float64)), 1e-12))
    width = max(1, int(rate * LIMITER_MS / 1000))
    floor = minimum_filter1d(need, size=2 * width + 1, mode="nearest")
    gain = uniform_filter1d(floor, size=width | 1, mode="nearest")
    gain = np.minimum(gain, need)  # float rounding of the average
    return np.asarray(audio.astype(np.float64) * gain, np.float32)


def true_peak(audio: Audio) -> npt.NDArray[np.float64]:
    """Per sample, the largest |value| of the 4x-oversampled signal around it (BS.1770-4
    annex 2: inter-sample peaks a DAC or an encoder will produce)."""
    x = audio.astype(np.float64)
    if x.size == 0:
        return x
    up = np.abs(resample_poly(x, OVERSAMPLE, 1))[: x.size * OVERSAMPLE]
    up = np.concatenate([up, np.zeros(x.size * OVERSAMPLE - up.size)])
    peaks: npt.NDArray[np.float64] = np.maximum(
        np.abs(x), up.reshape(x.size, OVERSAMPLE).max(axis=1)
    )
    return peaks


def true_peak_dbtp(audio: Audio) -> float:
    peak = float(np.max(true_peak(audio), initial=0.0))
    return 20 * float(np.log10(peak)) if peak > 0 else float("-inf")


def limit_true_peak(audio: Audio, rate: int, ceiling_dbtp: float = -1.0) -> Audio:
    """limit() on the true peak: no inter-sample peak above ceiling_dbtp (the usual -1 dBTP
    of broadcast delivery, EBU R128); audio under it is untouched. audio: samples, or samples x
    channels (one gain for all channels, so the image does not move)."""
    x = audio.astype(np.float64).reshape(len(audio), -1)
    ceiling = 10 ** (ceiling_dbtp / 20)
    peaks = np.max([true_peak(x[:, c].astype(np.float32)) for c in range(x.shape[1])], axis=0)
    if float(np.max(peaks, initial=0.0)) <= ceiling:
        return audio.astype(np.float32)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    width = max(1, int(rate * LIMITER_MS / 1000))
    floor = minimum_filter1d(need, size=2 * width + 1, mode="nearest")
    gain = np.minimum(uniform_filter1d(floor, size=width | 1, mode="nearest"), need)
    # The oversampled estimate can miss by a hair: a sample-peak limit at the ceiling after.
    out = np.clip(x * gain[:, None], -ceiling, ceiling)
    return np.asarray(out.reshape(audio.shape), np.float32)


class LoudnessMeter:
    """BS.1770 integrated loudness and true peak of a long signal fed block by block (memory
    does not grow with the episode): K-weighting filters keep their state across blocks, the
    400 ms gating blocks step by 100 ms, then the absolute (-70 LUFS) and relative (-10 LU)
    gates. Channels are summed with weight 1 (left, right, centre)."""

    STEP_S = 0.1

    def __init__(self, rate: int) -> None:
        self.rate = rate
        meter = pyloudnorm.Meter(rate)
        self._filters = [(f.b, f.a) for f in meter._filters.values()]
        self._state: list[npt.NDArray[np.float64]] | None = None
        self._step = int(rate * self.STEP_S)
        self._pending = np.zeros(0, np.float64)  # K-weighted energy not yet a whole step
        self._steps: list[float] = []  # mean square per 100 ms step
        self.true_peak = 0.0

    def add(self, block: npt.NDArray[np.float32]) -> None:
        """block: samples x channels (or samples)."""
        x = block.astype(np.float64).reshape(len(block), -1)
        self.true_peak = max(
            self.true_peak, *(float(np.max(true_peak(x[:, c].astype(np.float32)), initial=0.0))
                              for c in range(x.shape[1]))
        )  # fmt: skip
        if self._state is None:
            self._state = [
                np.zeros((max(len(a), len(b)) - 1, x.shape[1])) for b, a in self._filters
            ]
        for k, (b, a) in enumerate(self._filters):
            x, self._state[k] = lfilter(b, a, x, axis=0, zi=self._state[k])
        energy = np.concatenate([self._pending, np.sum(np.square(x), axis=1)])
        whole = len(energy) // self._step * self._step
        self._steps += list(energy[:whole].reshape(-1, self._step).mean(axis=1))
        self._pending = energy[whole:]

    def integrated(self) -> float:
        """LUFS of everything added (-inf: silence, or under one gating block)."""
        steps = np.asarray(self._steps)
        if len(steps) < 4:
            return float("-inf")
        blocks = np.convolve(steps, np.ones(4) / 4, mode="valid")  # 400 ms, 75 % overlap
        lufs = -0.691 + 10 * np.log10(np.maximum(blocks, 1e-20))
        kept = blocks[lufs > SILENT_LUFS]
        if kept.size == 0:
            return float("-inf")
        relative = -0.691 + 10 * np.log10(np.mean(kept)) - 10
        gated = blocks[(lufs > SILENT_LUFS) & (lufs > relative)]
        return float(-0.691 + 10 * np.log10(np.mean(gated))) if gated.size else float("-inf")

    def true_peak_dbtp(self) -> float:
        return 20 * float(np.log10(self.true_peak)) if self.true_peak > 0 else float("-inf")
