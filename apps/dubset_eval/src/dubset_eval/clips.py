"""Clip pairs against the truth's pairs: one-to-one IoU matching, boundary and offset errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

MIN_IOU = 0.5


@dataclass(frozen=True)
class ClipSpan:
    """A clip pair: its span in the JA video and in the EN video, each in its own timeline."""

    ja_start_ms: int
    ja_end_ms: int
    en_start_ms: int
    en_end_ms: int


@dataclass(frozen=True)
class ClipScore:
    """Matches of result clips to truth pairs, with the errors of the matched ones."""

    n_truth: int
    n_result: int
    matches: tuple[tuple[int, int], ...]
    boundary_errors_ms: tuple[int, ...]
    offset_errors_ms: tuple[int, ...]

    @property
    def matched(self) -> int:
        return len(self.matches)

    @property
    def precision(self) -> float | None:
        return self.matched / self.n_result if self.n_result else None

    @property
    def recall(self) -> float | None:
        return self.matched / self.n_truth if self.n_truth else None

    @property
    def f1(self) -> float | None:
        if not self.n_result or not self.n_truth:
            return None
        return 2 * self.matched / (self.n_result + self.n_truth)

    @property
    def median_boundary_error_ms(self) -> float | None:
        return percentile(self.boundary_errors_ms, 50)

    @property
    def p95_boundary_error_ms(self) -> float | None:
        return percentile(self.boundary_errors_ms, 95)

    @property
    def median_offset_error_ms(self) -> float | None:
        return percentile(self.offset_errors_ms, 50)


def percentile(values: Sequence[int], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default); None for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else None


def iou(a_start: int, a_end: int, b_start: int, b_end: int) -> float:
    """Intersection over union of two intervals; 0 when the union is empty."""
    inter = max(0, min(a_end, b_end) - max(a_start, b_start))
    union = max(a_end, b_end) - min(a_start, b_start)
    return inter / union if union > 0 and inter > 0 else 0.0


def _iou_matrix(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> NDArray[np.float64]:
    sa, ea = (np.asarray(v, dtype=np.float64)[:, None] for v in zip(*a, strict=True))
    sb, eb = (np.asarray(v, dtype=np.float64)[None, :] for v in zip(*b, strict=True))
    inter = np.maximum(0.0, np.minimum(ea, eb) - np.maximum(sa, sb))
    union = np.maximum(ea, eb) - np.minimum(sa, sb)
    out: NDArray[np.float64] = np.divide(
        inter, union, out=np.zeros_like(inter), where=(union > 0) & (inter > 0)
    )
    return out


def match_clips(
    truth: Sequence[ClipSpan], result: Sequence[ClipSpan], min_iou: float = MIN_IOU
) -> list[tuple[int, int]]:
    """Most (truth, result) index pairs, one-to-one, with IoU >= min_iou in both languages.

    Among matchings of maximal size, the one with the highest summed IoU wins: each candidate
    weighs more than the summed IoU any matching can gain, so size always comes first.
    """
    if not truth or not result:
        return []
    ja = _iou_matrix(
        [(t.ja_start_ms, t.ja_end_ms) for t in truth],
        [(r.ja_start_ms, r.ja_end_ms) for r in result],
    )
    en = _iou_matrix(
        [(t.en_start_ms, t.en_end_ms) for t in truth],
        [(r.en_start_ms, r.en_end_ms) for r in result],
    )
    candidate = (ja >= min_iou) & (en >= min_iou)
    weight = np.where(candidate, 2 * min(len(truth), len(result)) + 1 + ja + en, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return sorted(
        (i, j) for i, j in zip(rows.tolist(), cols.tolist(), strict=True) if candidate[i, j]
    )


def score_clips(
    truth: Sequence[ClipSpan], result: Sequence[ClipSpan], min_iou: float = MIN_IOU
) -> ClipScore:
    """Precision/recall of matches; per match, |error| of all four boundaries and of the
    clip's JA-EN offset (ja_start - en_start) against the truth pair's."""
    matches = match_clips(truth, result, min_iou)
    boundary: list[int] = []
    offset: list[int] = []
    for i, j in matches:
        t, r = truth[i], result[j]
        boundary += [
            abs(r.ja_start_ms - t.ja_start_ms),
            abs(r.ja_end_ms - t.ja_end_ms),
            abs(r.en_start_ms - t.en_start_ms),
            abs(r.en_end_ms - t.en_end_ms),
        ]
        offset.append(abs((r.ja_start_ms - r.en_start_ms) - (t.ja_start_ms - t.en_start_ms)))
    return ClipScore(len(truth), len(result), tuple(matches), tuple(boundary), tuple(offset))
