"""Speech maps from per-frame speech probabilities: the hysteresis both VAD users share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Interval = tuple[int, int]


def hysteresis_runs(probs: Iterable[float], onset: float, offset: float) -> list[Interval]:
    """[start, end) frame runs of speech: a run starts at a frame at or above onset and lasts
    until a frame below offset (or the end)."""
    runs: list[Interval] = []
    start: int | None = None
    n = 0
    for n, p in enumerate(probs, start=1):
        i = n - 1
        if start is None and p >= onset:
            start = i
        elif start is not None and p < offset:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, n))
    return runs


def join_gaps(intervals: Sequence[Interval], min_gap: int) -> list[Interval]:
    """Intervals joined across every gap shorter than min_gap; empty ones dropped."""
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s - out[-1][1] < min_gap:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
