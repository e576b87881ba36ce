"""SI-SDR against its closed form, and its invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dubset_eval.sisdr import si_sdr


def _orthogonal_pair(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Zero-mean x and zero-mean e with <x, e> = 0 (Gram-Schmidt)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n)
    x -= x.mean()
    e = rng.standard_normal(n)
    e -= e.mean()
    e -= (e @ x) / (x @ x) * x
    return x, 0.1 * e


def test_closed_form_of_signal_plus_orthogonal_noise() -> None:
    x, e = _orthogonal_pair()
    # alpha = <x+e, x>/|x|^2 = 1, so target = x and noise = e.
    expected = 10 * math.log10((x @ x) / (e @ e))
    assert si_sdr(x + e, x) == pytest.approx(expected, abs=1e-6)


def test_closed_form_of_a_scaled_estimate() -> None:
    x, e = _orthogonal_pair()
    # alpha = 0.3: target = 0.3 x, noise = e.
    expected = 10 * math.log10(0.09 * (x @ x) / (e @ e))
    assert si_sdr(0.3 * x + e, x) == pytest.approx(expected, abs=1e-6)


def test_scale_and_offset_invariance() -> None:
    x, e = _orthogonal_pair()
    base = si_sdr(x + e, x)
    assert base is not None
    assert si_sdr(7.5 * (x + e), x) == pytest.approx(base, abs=1e-9)
    assert si_sdr(x + e, 0.01 * x) == pytest.approx(base, abs=1e-9)
    assert si_sdr(x + e + 0.4, x) == pytest.approx(base, abs=1e-9)


def test_tone_in_tone_by_hand() -> None:
    t = np.arange(8000) / 8000
    clean = 0.5 * np.sin(2 * np.pi * 200 * t)
    other = 0.05 * np.sin(2 * np.pi * 500 * t)
    # Energies 0.25/2 and 0.0025/2 per sample: 10 log10(100) = 20 dB.
    assert si_sdr(clean + other, clean) == pytest.approx(20.0, abs=1e-6)


def test_compares_over_the_common_length() -> None:
    x, e = _orthogonal_pair()
    longer = np.concatenate([x + e, np.ones(500)])
    assert si_sdr(longer, x) == pytest.approx(si_sdr(x + e, x), abs=1e-9)


def test_silence_is_undefined_and_a_perfect_estimate_is_finite() -> None:
    x, _ = _orthogonal_pair()
    assert si_sdr(np.zeros_like(x), x) is None
    assert si_sdr(x, np.zeros_like(x)) is None
    perfect = si_sdr(x, x)
    assert perfect is not None and 90 < perfect < 110
