"""The JA-EN time offset from the shared music-and-effects bed of two soundtracks (pure numpy).

Two steps. Coarse: band log-energy flux at 100 frames/s, each band normalised and clipped so a
loud line of dialogue (present in one language only) cannot dominate, cross-correlated by FFT
over the whole search window; the score is the peak as a z-score against the correlation of
unrelated signals. Fine: around the coarse lag, GCC-PHAT of the waveforms, cross-spectra of
many short windows averaged before whitening, so the shared bed adds up coherently while the
two languages' dialogue does not; the peak gives the lag to the sample.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dubset_media.core.model import DEFAULT_MAX_OFFSET_MS, NotSameEpisodeError, OffsetEstimate

Signal = npt.NDArray[np.int16] | npt.NDArray[np.float32] | npt.NDArray[np.float64]
Hook = Callable[[float, str], None]

FRAME_RATE = 100
N_BANDS = 24
LOW_HZ = 120.0
HIGH_HZ = 7600.0
CLIP_Z = 3.0
BLOCK_FRAMES = 3000  # frames per envelope block: bounds the memory of long tracks
MIN_OVERLAP_S = 8.0
EXCLUDE_S = 0.5  # around the peak when looking for the runner-up
FINE_WINDOW = 1 << 14
FINE_MAX_WINDOWS = 96
FINE_SEARCH_FRAMES = 3  # fine search radius around the coarse lag, in coarse frames
# Coarse z-score margin over the runner-up that counts as a clear peak; fine PHAT peak over
# its noise floor (in standard deviations) that counts as a coherent shared bed.
COARSE_MARGIN_FULL = 8.0
FINE_SNR_FLOOR = 10.0
FINE_SNR_FULL = 30.0
SAME_EPISODE_CONFIDENCE = 0.5
METHOD = "band-flux-xcorr+gcc-phat"
COARSE_ONLY_METHOD = "band-flux-xcorr"


def _quiet(_fraction: float, _message: str) -> None:
    return None


def _as_float(block: Signal) -> npt.NDArray[np.float64]:
    out = np.asarray(block, dtype=np.float64)
    if block.dtype == np.int16:
        out = out / 32768.0
    return out


def _band_matrix(n_fft: int, rate: int) -> npt.NDArray[np.float64]:
    """(bins, bands) 0/1 matrix summing power spectrum bins into log-spaced bands."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    high = min(HIGH_HZ, rate / 2 * 0.95)
    edges = np.geomspace(LOW_HZ, high, N_BANDS + 1)
    m = np.zeros((len(freqs), N_BANDS))
    for b in range(N_BANDS):
        sel = (freqs >= edges[b]) & (freqs < edges[b + 1])
        if not sel.any():
            sel = np.abs(freqs - (edges[b] + edges[b + 1]) / 2) == np.min(
                np.abs(freqs - (edges[b] + edges[b + 1]) / 2)
            )
        m[sel, b] = 1.0
    return m


def band_log_energy(x: Signal, rate: int) -> npt.NDArray[np.float32]:
    """(frames, bands) log band energies at FRAME_RATE, computed block by block."""
    hop = rate // FRAME_RATE
    n_fft = 1 << int(np.ceil(np.log2(3.2 * hop)))
    n_frames = max(0, (len(x) - n_fft) // hop + 1)
    out = np.zeros((n_frames, N_BANDS), np.float32)
    bands = _band_matrix(n_fft, rate)
    window = np.hanning(n_fft)
    for f0 in range(0, n_frames, BLOCK_FRAMES):
        f1 = min(n_frames, f0 + BLOCK_FRAMES)
        seg = _as_float(x[f0 * hop : (f1 - 1) * hop + n_fft])
        frames = np.lib.stride_tricks.sliding_window_view(seg, n_fft)[::hop][: f1 - f0]
        power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
        out[f0:f1] = np.log(power @ bands + 1e-10).astype(np.float32)
    return out


def flux_features(log_energy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Rectified band flux, each band z-scored and clipped (no single burst dominates)."""
    if len(log_energy) < 2:
        return np.zeros((0, N_BANDS), np.float32)
    flux = np.maximum(np.diff(log_energy, axis=0), 0.0)
    flux = flux - flux.mean(axis=0)
    std = flux.std(axis=0)
    flux = flux / np.where(std > 1e-6, std, 1.0)
    clipped: npt.NDArray[np.float32] = np.clip(flux, -CLIP_Z, CLIP_Z).astype(np.float32)
    return clipped


def _xcorr(
    fe: npt.NDArray[np.float32], fj: npt.NDArray[np.float32], max_lag: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Lags d in [-max_lag, max_lag] and sum over t, bands of fe[t] * fj[t + d]."""
    n = len(fe) + len(fj)
    size = 1 << int(np.ceil(np.log2(max(n, 2))))
    acc = np.zeros(size // 2 + 1, np.complex128)
    for b in range(fe.shape[1]):
        acc += np.conj(np.fft.rfft(fe[:, b], size)) * np.fft.rfft(fj[:, b], size)
    full = np.fft.irfft(acc, size)
    lags = np.arange(-max_lag, max_lag + 1)
    return lags, full[lags % size]


def _overlap(n_en: int, n_ja: int, lags: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Frames where en[t] and ja[t + d] both exist, per lag d."""
    start = np.maximum(0, -lags)
    end = np.minimum(n_en, n_ja - lags)
    count: npt.NDArray[np.int64] = np.maximum(end - start, 0)
    return count


def coarse_lag(
    fe: npt.NDArray[np.float32], fj: npt.NDArray[np.float32], max_lag: int
) -> tuple[int, float, float]:
    """(lag in frames, peak z-score, margin of the peak over the runner-up in z units)."""
    lags, corr = _xcorr(fe, fj, max_lag)
    overlap = _overlap(len(fe), len(fj), lags)
    min_overlap = min(MIN_OVERLAP_S * FRAME_RATE, 0.5 * min(len(fe), len(fj)))
    valid = overlap >= max(min_overlap, 1)
    if not valid.any():
        raise NotSameEpisodeError("the two tracks are too short to compare")
    z = np.where(valid, corr / np.sqrt(np.maximum(overlap, 1) * fe.shape[1]), -np.inf)
    best = int(np.argmax(z))
    exclude = int(EXCLUDE_S * FRAME_RATE)
    rest = z.copy()
    rest[max(0, best - exclude) : best + exclude + 1] = -np.inf
    finite = rest[np.isfinite(rest)]
    runner_up = float(finite.max()) if finite.size else 0.0
    noise = float(finite.std()) if finite.size > 10 else 1.0
    noise = max(noise, 1e-6)
    return int(lags[best]), float(z[best]) / noise, (float(z[best]) - runner_up) / noise


def _fine_windows(n_en: int, n_ja: int, shift: int, radius: int) -> list[int]:
    """EN start samples of fine windows whose JA counterpart (shifted) lies inside the JA track."""
    lo = max(0, -shift + radius)
    hi = min(n_en, n_ja - shift - radius) - FINE_WINDOW
    if hi < lo:
        return []
    count = min(FINE_MAX_WINDOWS, (hi - lo) // (FINE_WINDOW // 2) + 1)
    return [int(s) for s in np.linspace(lo, hi, count).round()]


def fine_lag(en: Signal, ja: Signal, shift: int, radius: int) -> tuple[float, float]:
    """(residual lag in samples to add to shift, peak SNR) by averaged GCC-PHAT around shift."""
    starts = _fine_windows(len(en), len(ja), shift, radius)
    if not starts:
        return 0.0, 0.0
    window = np.hanning(FINE_WINDOW)
    acc = np.zeros(FINE_WINDOW + 1, np.complex128)
    size = 2 * FINE_WINDOW
    for s in starts:
        e = _as_float(en[s : s + FINE_WINDOW]) * window
        j = _as_float(ja[s + shift : s + shift + FINE_WINDOW]) * window
        acc += np.conj(np.fft.rfft(e, size)) * np.fft.rfft(j, size)
    mag = np.abs(acc)
    if mag.max() <= 0:
        return 0.0, 0.0
    phat = np.fft.irfft(acc / np.maximum(mag, mag.max() * 1e-9), size)
    lags = np.arange(-radius, radius + 1)
    near = phat[lags % size]
    k = int(np.argmax(np.abs(near)))
    if near[k] < 0:  # one release has its polarity inverted
        near = -near
    peak = float(near[k])
    far = phat[(np.arange(4 * radius, size - 4 * radius))]
    noise = float(np.std(far)) if far.size > 10 else 1.0
    frac = 0.0
    if 0 < k < len(near) - 1:
        a, b, c = float(near[k - 1]), peak, float(near[k + 1])
        denom = a - 2 * b + c
        if denom < 0:
            frac = 0.5 * (a - c) / denom
    return float(lags[k]) + frac, peak / max(noise, 1e-12)


def _score(margin: float, fine_snr: float) -> float:
    """Both steps agree on a clear peak: near 1; the coarse peak alone caps at 0.6."""
    coarse = min(1.0, max(0.0, margin) / COARSE_MARGIN_FULL)
    fine = min(1.0, max(0.0, fine_snr - FINE_SNR_FLOOR) / (FINE_SNR_FULL - FINE_SNR_FLOOR))
    return float(np.sqrt(coarse * fine)) if fine > 0 else 0.6 * coarse


def estimate_offset(
    en: Signal,
    ja: Signal,
    rate: int,
    max_offset_ms: int = DEFAULT_MAX_OFFSET_MS,
    hook: Hook = _quiet,
) -> OffsetEstimate:
    """JA time = EN time + ja_offset_ms, from two mono tracks at one sample rate."""
    if rate < 8000:
        raise ValueError(f"sample rate {rate} Hz is too low to estimate an offset")
    if max_offset_ms < 0:
        raise ValueError(f"max_offset_ms must not be negative ({max_offset_ms})")
    hop = rate // FRAME_RATE
    hook(0.0, "band envelopes EN")
    fe = flux_features(band_log_energy(en, rate))
    hook(0.3, "band envelopes JA")
    fj = flux_features(band_log_energy(ja, rate))
    if len(fe) < FRAME_RATE or len(fj) < FRAME_RATE:
        raise NotSameEpisodeError("a track is shorter than one second: nothing to compare")
    max_lag = min(max_offset_ms * FRAME_RATE // 1000, len(fe) + len(fj))
    hook(0.6, "coarse cross-correlation")
    lag, _peak, margin = coarse_lag(fe, fj, max_lag)
    hook(0.8, "fine GCC-PHAT")
    radius = FINE_SEARCH_FRAMES * hop
    shift = lag * hop
    residual, snr = fine_lag(en, ja, shift, radius)
    coherent = snr >= FINE_SNR_FLOOR
    if not coherent:
        residual = 0.0
    confidence = _score(margin, snr)
    hook(1.0, "offset done")
    return OffsetEstimate(
        ja_offset_ms=round((shift + residual) * 1000 / rate),
        confidence=confidence,
        same_episode=confidence >= SAME_EPISODE_CONFIDENCE,
        method=METHOD if coherent else COARSE_ONLY_METHOD,
        offset_samples=shift + round(residual),
        sample_rate_hz=rate,
        coarse_score=margin,
        fine_score=snr,
    )


def require_same_episode(estimate: OffsetEstimate) -> OffsetEstimate:
    """The estimate, or NotSameEpisodeError when the two tracks share no backing track."""
    if not estimate.same_episode:
        raise NotSameEpisodeError(
            f"not the same episode: the two soundtracks share no music-and-effects track "
            f"(offset confidence {estimate.confidence:.2f} < {SAME_EPISODE_CONFIDENCE}; "
            f"best guess {estimate.ja_offset_ms} ms)"
        )
    return estimate
