"""Fit and placement: bounded stretch, unfit clips reported, speech placed at the onset."""

from __future__ import annotations

import numpy as np
import pytest

from dubset_tts.core.fit import FADE_MS, Span, active_span, fit, place
from dubset_tts.core.model import FitPolicy, TtsInputError

RATE = 16000


def linear_stretch(audio: np.ndarray, rate: int, factor: float) -> np.ndarray:
    n = round(len(audio) * factor)
    return np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio).astype(
        np.float32
    )


def noise(seconds: float, amp: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amp * rng.standard_normal(int(seconds * RATE))).clip(-1, 1).astype(np.float32)


def test_active_span_finds_the_original_speech() -> None:
    clip = np.zeros(3 * RATE, np.float32)
    clip[RATE // 2 : 2 * RATE] = noise(1.5)
    clip += noise(3, amp=1e-5, seed=1)  # the stem's residual hiss is not speech
    span = active_span(clip, RATE)
    assert abs(span.start - RATE // 2) <= RATE * 0.02
    assert abs(span.end - 2 * RATE) <= RATE * 0.02


def test_silent_original_targets_the_whole_clip() -> None:
    assert active_span(np.zeros(RATE, np.float32), RATE) == Span(0, RATE)


@pytest.mark.parametrize(
    ("natural_s", "fits", "expected_s"),
    [
        (1.2, True, 1.0),  # speed up 1.2x: within 1.35
        (0.85, True, 1.0),  # slow down 1.18x: within 1.25
        (2.0, False, 2.0 / 1.35),  # too long: compressed only to the bound
        (0.5, False, 0.5 * 1.25),  # too short: stretched only to the bound
    ],
)
def test_fit_is_bounded_and_reports_unfit(natural_s: float, fits: bool, expected_s: float) -> None:
    target = Span(0, RATE)
    fitted = fit(noise(natural_s), RATE, target, FitPolicy(), linear_stretch)
    assert fitted.fits is fits
    assert fitted.natural_ratio == pytest.approx(natural_s, rel=1e-3)
    assert len(fitted.samples) == pytest.approx(expected_s * RATE, abs=2)


def test_no_stretch_policy_leaves_speech_alone() -> None:
    speech = noise(1.3)
    fitted = fit(speech, RATE, Span(0, RATE), FitPolicy(1.0, 1.0), linear_stretch)
    assert np.array_equal(fitted.samples, speech) and not fitted.fits


def test_bad_policy_is_an_input_error() -> None:
    with pytest.raises(TtsInputError, match="fit bounds"):
        FitPolicy(max_speedup=0.5)
    with pytest.raises(TtsInputError, match="lead_ms"):
        FitPolicy(lead_ms=-5)


def test_place_at_onset_with_exact_clip_length() -> None:
    speech = np.ones(RATE // 2, np.float32) * 0.5
    track, kept = place(speech, RATE, 2 * RATE, Span(RATE // 4, RATE), lead_ms=0)
    assert len(track) == 2 * RATE and kept == len(speech)
    assert np.flatnonzero(track)[0] == RATE // 4


def test_place_moves_late_speech_earlier_and_cuts_overlong_speech_with_a_fade() -> None:
    speech = np.ones(RATE, np.float32) * 0.5
    track, _ = place(speech, RATE, int(1.5 * RATE), Span(RATE, int(1.5 * RATE)), lead_ms=0)
    assert np.flatnonzero(track)[0] == RATE // 2  # ends exactly at the clip end
    long = np.ones(2 * RATE, np.float32) * 0.5
    track, kept = place(long, RATE, RATE, Span(0, RATE), lead_ms=0)
    assert len(track) == RATE and kept == RATE
    assert track[-1] == 0.0 and track[-RATE * FADE_MS // 1000 - 1] == pytest.approx(0.5)


def test_praat_stretch_keeps_pitch_and_reaches_the_length() -> None:
    from dubset_voices.dsp import median_pitch_hz, stretch

    t = np.arange(RATE) / RATE
    tone = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 10))
    tone = (0.3 * tone / np.max(np.abs(tone))).astype(np.float32)
    longer = stretch(tone, RATE, 1.25)
    assert abs(len(longer) - 1.25 * RATE) < RATE * 0.02
    assert median_pitch_hz(longer, RATE) == pytest.approx(150, rel=0.03)
    assert np.array_equal(longer, stretch(tone, RATE, 1.25))
