"""The picture's frame clock: 24000/1001 fps, frame indices of times, frame counts of shots."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise

from dubset_sample.shots import Shot

FPS = Fraction(24000, 1001)


def frame_at(ms: int) -> int:
    """The frame index at ms, round(ms * fps / 1000) (halves up)."""
    num = 2 * ms * FPS.numerator + 1000 * FPS.denominator
    return num // (2000 * FPS.denominator)


def frame_count(seconds: Fraction) -> int:
    """The number of frames covering seconds, rounded to the nearest frame."""
    return int((seconds * FPS + Fraction(1, 2)) // 1)


def shot_frames(shots: Sequence[Shot], total_frames: int) -> list[tuple[Shot, int]]:
    """Each shot with its frame count; the last shot is stretched or cut to total_frames."""
    _check_tiling(shots)
    starts = [frame_at(s.start_ms) for s in shots] + [total_frames]
    ends = [min(b, total_frames) for b in starts[1:]]
    counted = [(shot, b - a) for shot, a, b in zip(shots, starts, ends, strict=False)]
    kept = [(shot, n) for shot, n in counted if n > 0]
    if not kept:
        raise ValueError(f"no shot covers any of the {total_frames} frames")
    return kept


def _check_tiling(shots: Sequence[Shot]) -> None:
    if not shots or shots[0].start_ms != 0:
        raise ValueError("shots must start at 0 ms")
    if any(s.end_ms <= s.start_ms for s in shots):
        raise ValueError("shots must have positive lengths")
    for a, b in pairwise(shots):
        if a.end_ms != b.start_ms:
            raise ValueError(f"shots must be contiguous: {a.end_ms} != {b.start_ms}")
