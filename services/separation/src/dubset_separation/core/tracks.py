"""Running a separation over one track chunk by chunk: stems written, levels and stats."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dubset_separation.core.audio import AudioSource, Signal, StemWriter, split_exact
from dubset_separation.core.dualdub import PairFit, dualdub_chunk
from dubset_separation.core.model import (
    CHUNK_SECONDS,
    LANGS,
    MARGIN_SECONDS,
    LanguageStats,
    ProgressHook,
    SeparationInputError,
)

Estimator = Callable[[int, int], Signal]


def stem_names(lang: str) -> tuple[str, str]:
    return f"{lang}_dialogue.wav", f"{lang}_backing.wav"


SILENCE_DBFS = -70.0


def chunks(n: int, rate: int) -> list[tuple[int, int]]:
    size = int(CHUNK_SECONDS * rate)
    bounds = [*list(range(0, n, size)), n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size // 2:
        del bounds[-2]
    return list(itertools.pairwise(bounds))


def _mean_square(x: NDArray[np.int16]) -> float:
    f = x.astype(np.float64) / 32768.0
    return float(np.dot(f, f))


def run_track(
    source: AudioSource,
    estimate: Estimator,
    out_dir: Path,
    lang: str,
    hook: ProgressHook,
    progress: tuple[float, float] = (0.0, 1.0),
) -> tuple[float, float, float]:
    """Write <lang>_dialogue.wav and <lang>_backing.wav; returns their and the mixture's dBFS.

    Chunks of CHUNK_SECONDS are estimated with MARGIN_SECONDS of context on each side and
    cross-faded over the margin, so memory does not grow with the episode.
    """
    n, rate = source.frames, source.rate
    margin = int(MARGIN_SECONDS * rate)
    half = margin // 2
    fade = 2 * half
    ramp = np.sin(0.5 * np.pi * (np.arange(fade) + 0.5) / fade) ** 2
    parts = chunks(n, rate)
    d_name, b_name = stem_names(lang)
    dialogue = StemWriter(out_dir / d_name, rate)
    backing = StemWriter(out_dir / b_name, rate)
    mix_sq = 0.0
    pending: Signal | None = None
    try:
        for i, (a, b) in enumerate(parts):
            est = estimate(a - margin, b + margin)
            off = margin - a
            lo = a - half if a > 0 else 0
            hi = b - half if b < n else n
            out = est[lo + off : hi + off].copy()
            if pending is not None:
                out[:fade] = pending + ramp * out[:fade]
            if b < n:
                pending = (1.0 - ramp) * est[hi + off : hi + fade + off]
            mix = source.pcm(lo, hi)
            d, bk = split_exact(mix, out)
            dialogue.write(d)
            backing.write(bk)
            mix_sq += _mean_square(mix)
            f0, f1 = progress
            hook(f0 + (f1 - f0) * (i + 1) / len(parts), f"{lang}: {hi / rate:.0f} s")
    finally:
        dialogue.close()
        backing.close()
    from dubset_separation.core.audio import rms_dbfs

    return rms_dbfs(mix_sq, n), dialogue.rms_dbfs(), backing.rms_dbfs()


def track_stats(
    lang: str, source: AudioSource, levels: tuple[float, float, float], **extra: object
) -> LanguageStats:
    fallback = extra.pop("fallback_seconds", 0.0)
    assert isinstance(fallback, float)
    return LanguageStats(
        lang,
        source.rate,
        source.channels,
        source.frames,
        levels[0],
        levels[1],
        levels[2],
        fallback,
        dict(extra),
    )


def level_dbfs(source: AudioSource) -> float:
    """Mixture level over up to 60 probes of one second (cheap on long files)."""
    n, rate = source.frames, source.rate
    starts = np.unique(np.linspace(0, max(0, n - rate), min(60, max(1, n // rate))).astype(int))
    sq, count = 0.0, 0
    for s in starts:
        x = source.pcm(int(s), int(s) + min(rate, n))
        sq += _mean_square(x)
        count += len(x)
    from dubset_separation.core.audio import rms_dbfs

    return rms_dbfs(sq, count)


Mask = NDArray[np.bool_]


class DualEstimate:
    """A track's backing, chunk by chunk, from the other track read at the fitted shift;
    `covered(s, e)` says where (in the other track's samples) it has anything."""

    def __init__(
        self,
        read_a: Callable[[int, int], Signal],
        read_b: Callable[[int, int], Signal],
        fit: PairFit,
        rate: int,
        covered: Callable[[int, int], Mask],
    ) -> None:
        self.read_a, self.read_b, self.fit, self.rate, self.covered = (
            read_a, read_b, fit, rate, covered
        )  # fmt: skip

    def __call__(self, s: int, e: int) -> Signal:
        shift = self.fit.shift
        b, mask = self.read_b(s + shift, e + shift), self.covered(s + shift, e + shift)
        return dualdub_chunk(self.read_a(s, e), b, mask, self.fit, self.rate)


def require_audible(sources: Mapping[str, AudioSource]) -> None:
    """SeparationInputError when a track dual-dub needs is silent."""
    levels_in = {lang: level_dbfs(sources[lang]) for lang in LANGS}
    silent = [lang for lang, db in levels_in.items() if db <= SILENCE_DBFS]
    if silent:
        raise SeparationInputError(
            f"the {' and '.join(silent)} track is silent ({levels_in[silent[0]]:.0f} dBFS): "
            "dualdub needs the backing in both languages; use --backend repet"
        )
