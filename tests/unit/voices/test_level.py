"""Loudness: BS.1770 from 0.4 s, K-weighted RMS below; the limiter never lets a peak through."""

from __future__ import annotations

import numpy as np
import pytest

from dubset_voices.level import CEILING, limit, loudness, match_gain

RATE = 44100


def noise(seconds: float, amp: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amp * rng.standard_normal(int(seconds * RATE))).astype(np.float32)


def test_short_and_long_loudness_agree_on_steady_noise() -> None:
    steady = noise(2.0, 0.05)
    assert loudness(steady[: RATE // 4], RATE) == pytest.approx(loudness(steady, RATE), abs=1.0)


def test_gain_matches_within_a_tenth_of_a_lu() -> None:
    quiet = noise(1.0, 0.01)
    gained = quiet * np.float32(match_gain(quiet, RATE, -20.0))
    assert loudness(gained, RATE) == pytest.approx(-20.0, abs=0.1)
    assert loudness(np.zeros(RATE, np.float32), RATE) == float("-inf")
    assert match_gain(np.zeros(RATE, np.float32), RATE, -20.0) == 1.0


def test_limiter_stops_every_peak_and_leaves_quiet_audio_alone() -> None:
    hot = noise(1.0, 0.8)
    limited = limit(hot, RATE)
    assert np.max(np.abs(limited)) <= CEILING
    quiet = noise(1.0, 0.05)
    assert np.max(np.abs(quiet)) < CEILING and np.array_equal(limit(quiet, RATE), quiet)
    # Only the loud burst is turned down: a second later, nothing changes.
    burst = np.concatenate([noise(0.1, 2.0), noise(1.0, 0.05, seed=1)])
    out = limit(burst, RATE)
    assert np.max(np.abs(out)) <= CEILING
    assert np.array_equal(out[int(0.2 * RATE) :], burst[int(0.2 * RATE) :])


def test_true_peak_sees_the_peak_between_samples_and_the_limiter_holds_it() -> None:
    from dubset_voices.level import limit_true_peak, true_peak_dbtp

    # A full-scale sine at a quarter of the rate, sampled 45° off its crests: every sample
    # is at 0.707 but the waveform between them reaches 1.0 (+3 dB over the sample peak).
    n = np.arange(RATE)
    x = np.sin(2 * np.pi * (RATE / 4) * n / RATE + np.pi / 4).astype(np.float32)
    assert float(np.max(np.abs(x))) < 0.71
    assert true_peak_dbtp(x) > -0.5
    out = limit_true_peak(x, RATE, -1.0)
    assert true_peak_dbtp(out) <= -1.0 + 0.05
    quiet = (0.1 * x).astype(np.float32)
    assert np.array_equal(limit_true_peak(quiet, RATE, -1.0), quiet)


def test_the_block_meter_agrees_with_bs1770_on_the_whole_signal() -> None:
    from dubset_voices.level import LoudnessMeter

    rng = np.random.default_rng(3)
    t = np.arange(12 * RATE) / RATE
    left = 0.2 * np.sin(2 * np.pi * 440 * t) * (t % 3 < 2) + 0.02 * rng.standard_normal(t.size)
    right = 0.5 * left
    stereo = np.stack([left, right], axis=1).astype(np.float32)
    meter = LoudnessMeter(RATE)
    for start in range(0, len(stereo), 12345):  # blocks that cut the steps anywhere
        meter.add(stereo[start : start + 12345])
    import pyloudnorm

    whole = pyloudnorm.Meter(RATE).integrated_loudness(stereo.astype(np.float64))
    assert abs(meter.integrated() - whole) < 0.1, (meter.integrated(), whole)
    assert meter.true_peak_dbtp() >= 20 * np.log10(np.max(np.abs(stereo))) - 1e-6
