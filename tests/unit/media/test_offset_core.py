"""The offset core on synthetic soundtracks: a shared bed under different dialogue."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from dubset_media.core.model import NotSameEpisodeError
from dubset_media.core.offset import estimate_offset, require_same_episode

RATE = 16_000


def bed(seconds: float, seed: int) -> npt.NDArray[np.float32]:
    """Music-like bed: decaying tone notes and noise-burst drums at random times."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n, np.float32)
    t = np.arange(int(0.4 * RATE)) / RATE
    for start in rng.integers(0, n - len(t), int(seconds * 4)):
        f = rng.uniform(100, 2000)
        note = np.sin(2 * np.pi * f * t) * np.exp(-t * rng.uniform(3, 12))
        out[start : start + len(t)] += note.astype(np.float32) * rng.uniform(0.1, 0.3)
    for start in rng.integers(0, n - 800, int(seconds * 2)):
        out[start : start + 800] += rng.standard_normal(800).astype(np.float32) * 0.2
    return out


def dialogue(n: int, seed: int) -> npt.NDArray[np.float32]:
    """Loud speech-band bursts (modulated noise) covering about half the time."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, np.float32)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.8, 3.0) * RATE)
        if rng.random() < 0.55:
            seg = rng.standard_normal(min(length, n - pos)) * 0.8
            env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(len(seg)) / RATE)
            out[pos : pos + len(seg)] = np.convolve(seg * env, np.ones(6) / 6, "same")
        pos += length + int(rng.uniform(0.2, 1.5) * RATE)
    return out


def pair(offset_ms: int, seconds: float = 40.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(en, ja) with JA time = EN time + offset_ms; each language its own dialogue."""
    shared = bed(seconds + abs(offset_ms) / 1000 + 1, seed)
    lead = abs(offset_ms) * RATE // 1000
    n = int(seconds * RATE)
    if offset_ms >= 0:
        ja_bed, en_bed = shared[: n + lead], shared[lead : lead + n]
    else:
        en_bed, ja_bed = shared[: n + lead], shared[lead : lead + n]
    en = en_bed + dialogue(len(en_bed), seed + 100)
    ja = ja_bed + dialogue(len(ja_bed), seed + 200)
    return en, ja


@pytest.mark.parametrize("offset_ms", [0, 1500, -1500, 12_345, -7_001])
def test_known_shift_is_found_to_the_millisecond(offset_ms: int) -> None:
    en, ja = pair(offset_ms)
    est = estimate_offset(en, ja, RATE)
    assert abs(est.ja_offset_ms - offset_ms) <= 1
    assert est.same_episode and est.confidence > 0.8
    assert est.method == "band-flux-xcorr+gcc-phat"


def test_int16_input_and_noise_and_inverted_polarity() -> None:
    en, ja = pair(2500)
    rng = np.random.default_rng(5)
    ja = -(ja + rng.standard_normal(len(ja)).astype(np.float32) * 0.05)
    as_int = (np.clip(ja, -1, 1) * 32767).astype(np.int16)
    est = estimate_offset((np.clip(en, -1, 1) * 32767).astype(np.int16), as_int, RATE)
    assert abs(est.ja_offset_ms - 2500) <= 1 and est.same_episode


def test_tracks_without_shared_content_are_not_one_episode() -> None:
    en, _ = pair(0, seed=1)
    _, ja = pair(0, seed=2)
    est = estimate_offset(en, ja, RATE)
    assert not est.same_episode and est.confidence < 0.3
    with pytest.raises(NotSameEpisodeError, match="not the same episode"):
        require_same_episode(est)


def test_offset_outside_the_window_is_not_found() -> None:
    en, ja = pair(4000)
    est = estimate_offset(en, ja, RATE, max_offset_ms=1000)
    assert abs(est.ja_offset_ms) <= 1000
    assert not est.same_episode


def test_deterministic() -> None:
    en, ja = pair(-900)
    assert estimate_offset(en, ja, RATE) == estimate_offset(en.copy(), ja.copy(), RATE)


def test_too_short_or_bad_arguments() -> None:
    with pytest.raises(NotSameEpisodeError, match="shorter than one second"):
        estimate_offset(np.zeros(8000, np.float32), np.zeros(8000, np.float32), RATE)
    with pytest.raises(ValueError, match="too low"):
        estimate_offset(np.zeros(8000, np.float32), np.zeros(8000, np.float32), 4000)


def test_peak_level_finds_silence_and_the_loudest_sample_across_chunks() -> None:
    import math

    from dubset_media.core.level import SILENCE_DBFS, peak_dbfs

    quiet = np.zeros(3_000_000, np.int16)
    assert peak_dbfs(quiet) == -math.inf
    quiet[2_500_000] = 3  # dither-level: still silence
    assert peak_dbfs(quiet, chunk=1 << 20) < SILENCE_DBFS
    quiet[2_900_000] = -16384  # half scale, in the last chunk
    assert abs(peak_dbfs(quiet, chunk=1 << 20) - (-6.02)) < 0.01
    assert peak_dbfs(np.zeros(0, np.int16)) == -math.inf
