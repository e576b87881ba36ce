"""The shared music-and-effects bed: exact, repeatable, normalised, and not a loop."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy import signal

from dubset_sample import synth
from dubset_sample.backing import Bed, render_bed, render_intro
from dubset_sample.synth import EFFECT_KINDS

SR = 16000
SECONDS = 60


@pytest.fixture(scope="module")
def bed() -> Bed:
    return render_bed(SECONDS * 1000, SR, 7)


def _db(x: npt.NDArray[np.float32]) -> float:
    return float(20.0 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def _window_db(x: npt.NDArray[np.float32], sr: int, seconds: float) -> npt.NDArray[np.float64]:
    hop = round(seconds * sr)
    frames = x[: len(x) // hop * hop].reshape(-1, hop).astype(np.float64)
    return np.asarray(20.0 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-12), np.float64)


def _max_window_correlation(x: npt.NDArray[np.float32], sr: int, seconds: float = 8.0) -> float:
    """Highest Pearson correlation between the magnitude spectrograms of any two
    non-overlapping windows `seconds` long, at every frame offset (32 ms steps)."""
    hop = 512
    _, _, z = signal.stft(x, sr, nperseg=1024, noverlap=1024 - hop, boundary=None, padded=False)
    spec = np.abs(z).astype(np.float64)
    bins, frames = spec.shape
    w = round(seconds * sr / hop)
    col = np.concatenate(([0.0], np.cumsum(spec.sum(0))))
    col2 = np.concatenate(([0.0], np.cumsum((spec**2).sum(0))))
    s, q, d = col[w:] - col[:-w], col2[w:] - col2[:-w], bins * w
    var = q - s**2 / d
    gram = spec.T @ spec
    best = -1.0
    # Sums of products of two windows are sums along the diagonals of the Gram matrix.
    for lag in range(w, frames - w + 1):
        diag = np.concatenate(([0.0], np.cumsum(np.diagonal(gram, lag))))
        cross = diag[w:] - diag[:-w]
        i = np.arange(len(cross))
        r = (cross - s[i] * s[i + lag] / d) / np.sqrt(var[i] * var[i + lag])
        best = max(best, float(r.max()))
    return best


@pytest.mark.parametrize(
    ("duration_ms", "sample_rate"),
    [(0, 16000), (1, 16000), (10, 16000), (10, 48000), (999, 44100), (1000, 22050), (1001, 48000)],
)
def test_exact_length_and_dtype(duration_ms: int, sample_rate: int) -> None:
    expected = round(duration_ms * sample_rate / 1000)
    bed = render_bed(duration_ms, sample_rate, 1)
    intro = render_intro(duration_ms, sample_rate, 1)
    for audio in (bed.audio, intro):
        assert audio.dtype == np.float32
        assert audio.shape == (expected,)
        assert np.all(np.isfinite(audio))
        assert np.abs(audio).max(initial=0.0) <= 0.99
    for fx in bed.effects:
        assert 0 <= fx.start_ms < fx.end_ms <= duration_ms


def test_zero_duration_is_empty() -> None:
    bed = render_bed(0, 48000, 3)
    assert bed.audio.shape == (0,) and bed.effects == ()
    assert render_intro(0, 48000, 3).shape == (0,)


def test_same_seed_is_bit_identical_and_seeds_differ() -> None:
    a, b = render_bed(5000, SR, 11), render_bed(5000, SR, 11)
    assert a.audio.tobytes() == b.audio.tobytes() and a.effects == b.effects
    assert render_intro(3000, SR, 11).tobytes() == render_intro(3000, SR, 11).tobytes()
    c = render_bed(5000, SR, 12)
    assert not np.array_equal(a.audio, c.audio)
    assert not np.array_equal(render_intro(3000, SR, 11), render_intro(3000, SR, 12))


def test_loudness_and_peak(bed: Bed) -> None:
    assert abs(_db(bed.audio) + 20.0) <= 0.5
    assert np.abs(bed.audio).max() <= 0.99


@pytest.mark.parametrize("sample_rate", [16000, 48000])
def test_sample_rates_share_the_score(bed: Bed, sample_rate: int) -> None:
    here = bed if sample_rate == SR else render_bed(SECONDS * 1000, sample_rate, 7)
    assert abs(_db(here.audio) + 20.0) <= 0.5 and np.abs(here.audio).max() <= 0.99
    # The score and effect times come from the seed alone, so the loudness contour matches.
    assert here.effects == bed.effects
    contour = np.corrcoef(_window_db(bed.audio, SR, 2.0), _window_db(here.audio, sample_rate, 2.0))
    assert contour[0, 1] > 0.95


def test_short_beds_work() -> None:
    for ms in (10, 1000):
        for sr in (16000, 48000):
            audio = render_bed(ms, sr, 2).audio
            assert len(audio) == ms * sr // 1000 and np.abs(audio).max() <= 0.99
            assert np.any(audio != 0.0)


def test_not_a_loop(bed: Bed) -> None:
    assert _max_window_correlation(bed.audio, SR) < 0.9
    # The measure does catch a loop: the same bed built by repeating its first 7.3 s.
    period = round(7.3 * SR)
    looped = np.tile(bed.audio[:period], len(bed.audio) // period + 1)[: len(bed.audio)]
    assert _max_window_correlation(looped, SR) > 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_has_quiet_and_busy_passages(seed: int) -> None:
    audio = render_bed(180_000, SR, seed).audio
    levels = _window_db(audio, SR, 5.0)
    assert levels.max() - levels.min() >= 8.0


def test_fixture_bed_has_dynamics(bed: Bed) -> None:
    levels = _window_db(bed.audio, SR, 1.0)
    assert np.percentile(levels, 90) - np.percentile(levels, 10) >= 4.0


def test_effects_are_sorted_in_bounds_and_irregular(bed: Bed) -> None:
    effects = bed.effects
    assert 4 <= len(effects) <= 12  # about one every 5-15 s
    starts = [fx.start_ms for fx in effects]
    assert starts == sorted(starts)
    for fx in effects:
        assert fx.kind in EFFECT_KINDS
        assert 0 <= fx.start_ms < fx.end_ms <= SECONDS * 1000
    gaps = np.diff(starts)
    assert gaps.min() >= 4999 and gaps.max() <= 15001
    assert len(set(gaps.tolist())) == len(gaps)  # irregular, not a metronome
    longer = render_bed(300_000, SR, 7).effects
    assert len({fx.kind for fx in longer}) >= 6


def test_effects_sound_exactly_where_listed(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    real = synth.effect
    monkeypatch.setattr(synth, "effect", lambda *args: real(*args) * np.float32(0.0))
    music = render_bed(SECONDS * 1000, SR, 7).audio.astype(np.float64)
    audio = bed.audio.astype(np.float64)
    spans = [
        slice(max(0, (fx.start_ms - 2) * SR // 1000), (fx.end_ms + 2) * SR // 1000)
        for fx in bed.effects
    ]
    quiet = np.ones(len(audio), bool)
    for span in spans:
        quiet[span] = False
    # Outside the spans the bed is the music alone, up to the final gain.
    scale = np.dot(audio[quiet], music[quiet]) / np.dot(music[quiet], music[quiet])
    residual = audio - scale * music
    assert np.sqrt(np.mean(residual[quiet] ** 2)) < 1e-3 * np.sqrt(np.mean(audio**2))
    for span in spans:
        assert np.sqrt(np.mean(residual[span] ** 2)) > 0.05 * np.sqrt(np.mean(audio[span] ** 2))


def test_intro_is_its_own_theme() -> None:
    intro = render_intro(30_000, SR, 7)
    bed = render_bed(30_000, SR, 7).audio
    assert abs(_db(intro) + 20.0) <= 0.5 and np.abs(intro).max() <= 0.99
    assert abs(float(np.corrcoef(intro, bed)[0, 1])) < 0.2
    # Different tempo and band: the long-term spectra differ.
    spec_i = np.abs(np.fft.rfft(intro)) ** 2
    spec_b = np.abs(np.fft.rfft(bed)) ** 2
    band_i = [spec_i[k : k + 2000].sum() for k in range(0, len(spec_i), 2000)]
    band_b = [spec_b[k : k + 2000].sum() for k in range(0, len(spec_b), 2000)]
    assert float(np.corrcoef(np.log(band_i), np.log(band_b))[0, 1]) < 0.995


@pytest.mark.parametrize("duration_ms", [200, 5_000, 95_000])
def test_intro_fades_out(duration_ms: int) -> None:
    intro = render_intro(duration_ms, SR, 3)
    tail = intro[-min(len(intro) // 20, round(0.3 * SR)) :]
    assert _db(tail) < _db(intro) - 25.0
    assert intro[-1] == 0.0
