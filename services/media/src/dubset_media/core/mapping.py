"""The map from the JA timeline to the EN timeline, from the shared music-and-effects bed.

A dub's timeline is the original's plus pieces: a card inserted, a recap cut, the OP moved, a
PAL release running 25/23.976 fast. The map is piecewise linear: one speed ratio for the whole
release (1, or a PAL speed-up or slow-down), and in each piece a constant offset.

1. Ratio: the EN band-flux envelope is resampled to the JA rate for each candidate ratio and
   cross-correlated with the JA one; the clearest peak names the ratio.
2. Offsets: 20 s windows of the JA envelope, every 10 s, each cross-correlated with the
   (resampled) EN envelope; a window's lag counts when its peak stands out.
3. Pieces: runs of windows that agree on a lag; an isolated disagreeing window is dropped.
4. Breaks: between two runs, the frame where the first offset stops and the second starts
   explaining the envelopes best (with the stretch one release has alone between them).
All in frames of 10 ms; the caller refines each piece to the sample (offset.fine_lag).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from dubset_media.core.offset import FRAME_RATE, _xcorr

Features = npt.NDArray[np.float32]

PAL = Fraction(24000, 1001) / 25  # EN runs 25 fps where JA ran 23.976: EN time = JA time * PAL
RATIOS = (Fraction(1), PAL, 1 / PAL)
WINDOW = 10 * FRAME_RATE
HOP = 5 * FRAME_RATE
MIN_WINDOW_Z = 6.0  # a window's peak over the spread of its other lags
AGREE_FRAMES = 3  # windows whose lags differ by at most this belong to one piece
MIN_PIECE_Z = 9.0  # a piece of a single window needs a clearer peak than this
RATIO_MARGIN = 1.3  # a ratio other than 1 must beat 1 by this factor
RATIO_WINDOWS = 12  # windows, spread over the episode, that judge the ratio


@dataclass(frozen=True)
class WindowLag:
    start: int  # JA frame
    lag: int  # EN (at the JA rate) = JA + lag, in frames
    z: float


@dataclass(frozen=True)
class FramePiece:
    """JA frames [ja_start, ja_end) map to EN-at-JA-rate frames [ja_start + lag, ja_end + lag)."""

    ja_start: int
    ja_end: int
    lag: int
    z: float


def warp(features: Features, ratio: Fraction) -> Features:
    """The EN envelope resampled to the JA rate: frame u holds EN frame u * ratio."""
    if ratio == 1:
        return features
    n = int(len(features) / ratio)
    index = np.minimum((np.arange(n) * float(ratio)).round().astype(np.int64), len(features) - 1)
    warped: Features = features[index]
    return warped


def choose_ratio(fe: Features, fj: Features, max_lag: int) -> Fraction:
    """The speed ratio (EN time per JA time) under which windows of the envelopes match best
    (the summed z of the windows that match at all): at a wrong ratio a window drifts by
    hundreds of ms and its peak smears."""
    scores = {}
    for ratio in RATIOS:
        lags = window_lags(warp(fe, ratio), fj, max_lag, RATIO_WINDOWS)
        scores[ratio] = sum(w.z for w in lags if w.z >= MIN_WINDOW_Z)
    best = max(scores, key=lambda r: scores[r])
    if best != 1 and scores[best] < RATIO_MARGIN * scores[Fraction(1)]:
        return Fraction(1)
    return best


def window_lags(
    fe_w: Features, fj: Features, max_lag: int, most: int | None = None
) -> list[WindowLag]:
    """Each JA window's best lag against the warped EN envelope, with its z-score (at most
    `most` windows, spread evenly, when given)."""
    out = []
    last = max(0, len(fj) - WINDOW)
    starts = [*range(0, last, HOP), last]  # the last window ends with the track
    if most is not None and len(starts) > most:
        starts = [starts[round(i)] for i in np.linspace(0, len(starts) - 1, most)]
    for start in starts:
        window = fj[start : start + WINDOW]
        lo = max(0, start - max_lag)
        hi = min(len(fe_w), start + len(window) + max_lag)
        if hi - lo < len(window) // 2:
            continue
        segment = fe_w[lo:hi]
        lags, corr = _xcorr(window, segment, hi - lo)
        shifts = lags + lo - start  # EN frame = JA frame + shift
        keep = (lags >= -len(window) // 2) & (lags <= hi - lo - len(window) // 2)
        keep &= np.abs(shifts) <= max_lag
        if keep.sum() < 10:
            continue
        c, s = corr[keep], shifts[keep]
        best = int(np.argmax(c))
        rest = np.delete(c, slice(max(0, best - 50), best + 51))
        spread = float(rest.std()) if rest.size > 10 else 0.0
        if spread <= 0:
            continue
        z = (float(c[best]) - float(rest.mean())) / spread
        out.append(WindowLag(start, int(s[best]), z))
    return out


def _runs(lags: list[WindowLag]) -> list[list[WindowLag]]:
    """Consecutive significant windows that agree on a lag; a lone outlier between two windows
    that agree with each other is dropped."""
    good = [w for w in lags if w.z >= MIN_WINDOW_Z]
    kept = [
        w
        for i, w in enumerate(good)
        if not (
            0 < i < len(good) - 1
            and abs(good[i - 1].lag - good[i + 1].lag) <= AGREE_FRAMES
            and abs(w.lag - good[i - 1].lag) > AGREE_FRAMES
        )
    ]
    runs: list[list[WindowLag]] = []
    for w in kept:
        if runs and abs(w.lag - _lag(runs[-1])) <= AGREE_FRAMES:
            runs[-1].append(w)
        else:
            runs.append([w])
    return [r for r in runs if len(r) > 1 or r[0].z >= MIN_PIECE_Z]


def _lag(run: list[WindowLag]) -> int:
    return int(np.median([w.lag for w in run]))


def _frame_scores(fe_w: Features, fj: Features, lag: int, lo: int, hi: int) -> np.ndarray:
    """Per JA frame t in [lo, hi): how well EN frame t + lag matches it (0 where EN has none)."""
    t = np.arange(lo, hi)
    u = t + lag
    ok = (u >= 0) & (u < len(fe_w))
    out = np.zeros(hi - lo)
    out[ok] = np.einsum("ij,ij->i", fj[t[ok]], fe_w[u[ok]])
    return out


def break_between(fe_w: Features, fj: Features, a: FramePiece, b: FramePiece) -> int:
    """The JA frame where piece a ends. When b's lag is larger, the EN release has material of
    its own there (b starts where a ends); when smaller, the JA release has (b starts that many
    frames later)."""
    lo = a.ja_start + (a.ja_end - a.ja_start) // 2
    hi = b.ja_end - (b.ja_end - b.ja_start) // 2
    gap = max(0, a.lag - b.lag)  # JA-only frames
    if hi - lo <= gap + 1:
        return lo
    first = np.concatenate([[0.0], np.cumsum(_frame_scores(fe_w, fj, a.lag, lo, hi))])
    second = np.concatenate([[0.0], np.cumsum(_frame_scores(fe_w, fj, b.lag, lo, hi))])
    ends = np.arange(0, hi - lo - gap + 1)
    total = first[ends] + (second[-1] - second[ends + gap])
    return lo + int(np.argmax(total))


def pieces(fe_w: Features, fj: Features, max_lag: int) -> list[FramePiece]:
    """The pieces of the map in JA frames, in time order, each with its lag (EN-at-JA-rate)."""
    runs = _runs(window_lags(fe_w, fj, max_lag))
    rough = [
        FramePiece(r[0].start, r[-1].start + WINDOW, _lag(r), float(np.median([w.z for w in r])))
        for r in runs
    ]
    merged: list[FramePiece] = []
    for p in rough:  # the same lag again after a gap of unclear windows: one piece
        if merged and merged[-1].lag == p.lag:
            q = merged[-1]
            merged[-1] = FramePiece(q.ja_start, p.ja_end, q.lag, max(q.z, p.z))
        else:
            merged.append(p)
    if not merged:
        return []
    out = [merged[0]]
    for p in merged[1:]:
        q = out[-1]
        end = break_between(fe_w, fj, q, p)
        start = end + max(0, q.lag - p.lag)
        out[-1] = FramePiece(q.ja_start, end, q.lag, q.z)
        out.append(FramePiece(start, p.ja_end, p.lag, p.z))
    # The first piece reaches back to the start, the last to the end, where EN exists.
    first, last = out[0], out[-1]
    out[0] = FramePiece(max(0, -first.lag), first.ja_end, first.lag, first.z)
    out[-1] = FramePiece(out[-1].ja_start, min(len(fj), len(fe_w) - last.lag), last.lag, last.z)
    return [p for p in out if p.ja_end > p.ja_start]
