"""Clips grouped into cutting batches: one decode of each stretch of video, bounded encoders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_packaging.core.model import Span

# One ffmpeg process runs one encoder per clip output at once; x264 encoders cost tens of MB.
MAX_VIDEO_BATCH = 8
MAX_AUDIO_BATCH = 32
# Seeking past a long silence is cheaper than decoding it.
MAX_BATCH_GAP_MS = 30_000


@dataclass(frozen=True)
class Batch:
    """Clips (indices into the caller's list) cut by one process seeking to start_ms."""

    start_ms: int
    end_ms: int
    items: tuple[int, ...]


def plan_batches(
    spans: Sequence[Span], max_clips: int, max_gap_ms: int = MAX_BATCH_GAP_MS
) -> list[Batch]:
    """Spans in start order, cut into runs of at most max_clips, a new run after a long gap.

    Runs do not overlap in time unless the spans do, so an episode is decoded about once.
    """
    if max_clips < 1:
        raise ValueError("max_clips must be at least 1")
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start_ms, spans[i].end_ms, i))
    batches: list[Batch] = []
    run: list[int] = []
    run_end = 0
    for i in order:
        span = spans[i]
        if run and (len(run) >= max_clips or span.start_ms - run_end > max_gap_ms):
            batches.append(Batch(spans[run[0]].start_ms, run_end, tuple(run)))
            run = []
        run_end = max(run_end, span.end_ms) if run else span.end_ms
        run.append(i)
    if run:
        batches.append(Batch(spans[run[0]].start_ms, run_end, tuple(run)))
    return batches
