"""dualdub: two dubs of one episode share their music-and-effects bed; what differs is dialogue.

With track B (the other language) aligned onto track A, each time-frequency bin holds
X_A = bed + D_A and Y_B = H * X_B = bed + H * D_B, H a per-frequency gain (level/EQ between
the two masters, after the lag is refined to the sample). Bed and the two dialogues are
modelled as independent complex Gaussians: the bed's power is BED_SHARE of
min(|X_A|, |Y_B|)^2 (the smaller observation holds less dialogue), and the dialogue power
|X_A - Y_B|^2 (no bed in it) is shared between the tracks in proportion to their levels.
The MMSE estimate of the bed from the two observations is their inverse-dialogue-power
weighted sum: a bin with no dialogue in A keeps A; a bin with dialogue only in A takes B's
clean bed; a bin with dialogue in both is shrunk toward zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

from dubset_separation.core.model import SeparationInputError
from dubset_separation.core.repet import repet_backing
from dubset_separation.core.stft import Spec, Stft, fft_size

Signal = NDArray[np.float64]
Reader = Callable[[int, int], Signal]

MAX_LAG_S = 0.25  # residual misalignment the fit searches, beyond the given offset
FIT_WINDOW_S = 10.0
FIT_WINDOWS = 8
MIN_OVERLAP_S = 1.0
# Below this height of the GCC-PHAT peak over the other lags (in standard deviations) the
# tracks share no bed: unrelated audio peaks near 4-5 over 2 * MAX_LAG_S of lags.
MIN_PEAK_Z = 10.0
# Tuned on generated episode seed 3 (SI-SDR of both stems; 1.0 is 0.8 dB worse).
BED_SHARE = 0.5
DIALOGUE_FLOOR = 0.01
EPS = 1e-12


@dataclass(frozen=True)
class PairFit:
    """How track B maps onto A: B sample = A sample + shift (A's rate); transfer per bin."""

    shift: int
    residual_lag: int
    correlation: float
    peak_z: float
    transfer: NDArray[np.complex128]

    def summary(self, rate: int) -> dict[str, object]:
        gain = np.abs(self.transfer)
        return {
            "residual_lag_ms": round(1000.0 * self.residual_lag / rate, 2),
            "correlation": round(self.correlation, 4),
            "alignment_peak_z": round(self.peak_z, 1),
            "transfer_gain_db_median": round(float(20 * np.log10(np.median(gain) + EPS)), 2),
        }


def _windows(lo: int, hi: int, rate: int) -> list[tuple[int, int]]:
    length = int(FIT_WINDOW_S * rate)
    if hi - lo <= length:
        return [(lo, hi)]
    count = min(FIT_WINDOWS, (hi - lo) // length)
    starts = np.linspace(lo, hi - length, count).astype(int)
    return [(int(s), int(s) + length) for s in starts]


def _gcc_phat(a: Signal, b: Signal) -> NDArray[np.float64]:
    """PHAT-weighted cross-correlation c[k] of a against b[k : k + len(a)], k = 0..len(b)-len(a)."""
    n = len(a) + len(b)
    fa, fb = np.fft.rfft(a, n), np.fft.rfft(b, n)
    cross = np.conj(fa) * fb
    cc = np.fft.irfft(cross / np.maximum(np.abs(cross), EPS), n)
    return np.asarray(cc[: len(b) - len(a) + 1])


def fit_pair(
    read_a: Reader, read_b: Reader, shift: int, overlap: tuple[int, int], rate: int
) -> PairFit:
    """Refine the lag of B against A within MAX_LAG_S and estimate the per-bin transfer."""
    lo, hi = overlap
    if hi - lo < MIN_OVERLAP_S * rate:
        raise SeparationInputError(
            f"the two tracks overlap for {max(0, hi - lo) / rate:.2f} s at this offset; "
            f"dualdub needs at least {MIN_OVERLAP_S:.0f} s"
        )
    max_lag = int(MAX_LAG_S * rate)
    windows = _windows(lo, hi, rate)
    total = None
    for s, e in windows:
        cc = _gcc_phat(read_a(s, e), read_b(s + shift - max_lag, e + shift + max_lag))
        total = cc if total is None else total + cc
    assert total is not None
    best = int(np.argmax(total))
    lag = best - max_lag
    peak_z = float((total[best] - np.mean(total)) / max(float(np.std(total)), EPS))
    if peak_z < MIN_PEAK_Z:
        raise SeparationInputError(
            f"the JA and EN tracks share no backing near this offset (alignment peak "
            f"{peak_z:.1f} < {MIN_PEAK_Z:.0f} standard deviations): check --ja-offset-ms and "
            "that both are the same episode, or use a single-track backend (repet)"
        )
    shift += lag
    stft = Stft(fft_size(rate))
    num, den_a, den_b = 0.0, 0.0, 0.0
    ratios: list[NDArray[np.float64]] = []
    for s, e in windows:
        a, b = read_a(s, e), read_b(s + shift, e + shift)
        num += float(np.dot(a, b))
        den_a += float(np.dot(a, a))
        den_b += float(np.dot(b, b))
        xa, xb = stft.forward(a), stft.forward(b)
        ma, mb = np.abs(xa), np.abs(xb)
        floor = 1e-6 * max(float(ma.max()), float(mb.max()), EPS)
        ok = (ma > floor) & (mb > floor)
        ratios.append(np.where(ok, ma / np.maximum(mb, EPS), np.nan))
    correlation = num / max(np.sqrt(den_a * den_b), EPS)
    stacked = np.concatenate(ratios, axis=0)
    valid = ~np.isnan(stacked)
    gain = np.ones(stacked.shape[1])
    has = valid.sum(axis=0) >= 8
    if has.any():
        gain[has] = np.nanmedian(stacked[:, has], axis=0)
    gain = np.clip(median_filter(gain, size=9, mode="nearest"), 0.1, 10.0)
    # Only the gain: a per-bin phase from the cross-spectrum of dialogue-laden tracks is noisy
    # and cost 0.5 dB on generated episodes; the lag is already corrected to the sample.
    return PairFit(shift, lag, float(correlation), peak_z, gain.astype(np.complex128))


def dual_backing(a: Signal, b: Signal, fit: PairFit, rate: int) -> Signal:
    """Backing estimate of a, b being the other track already aligned sample for sample."""
    stft = Stft(fft_size(rate))
    xa = stft.forward(a)
    yb: Spec = stft.forward(b) * fit.transfer[None, :]
    pa_obs, pb_obs = np.abs(xa) ** 2, np.abs(yb) ** 2
    bed = BED_SHARE * np.minimum(pa_obs, pb_obs)
    # |X_A - Y_B|^2 = |D_A - H D_B|^2 holds no bed: the dialogue power of the bin, shared
    # between the two tracks in proportion to their levels.
    diff = np.abs(xa - yb) ** 2
    total = pa_obs + pb_obs + EPS
    da = diff * pa_obs / total + DIALOGUE_FLOOR * bed + EPS
    db = diff * pb_obs / total + DIALOGUE_FLOOR * bed + EPS
    estimate = bed * (xa / da + yb / db) / (1.0 + bed / da + bed / db)
    return stft.inverse(estimate, len(a))


def dualdub_chunk(
    a: Signal, b: Signal, covered: NDArray[np.bool_], fit: PairFit, rate: int
) -> Signal:
    """Backing of a chunk; REPET (on this chunk) where B does not cover it."""
    if not covered.any():
        return repet_backing(a, rate)
    backing = dual_backing(a, np.where(covered, b, 0.0), fit, rate)
    if not covered.all():
        backing = np.where(covered, backing, repet_backing(a, rate))
    return backing
