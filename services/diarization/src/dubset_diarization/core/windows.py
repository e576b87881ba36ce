"""Embedding windows inside speech regions."""

from __future__ import annotations

from dataclasses import dataclass

from dubset_diarization.core.model import SAMPLE_RATE


@dataclass(frozen=True)
class WindowConfig:
    window_ms: int = 1500
    hop_ms: int = 750
    min_window_ms: int = 1000


@dataclass(frozen=True)
class Window:
    """Samples [start, end) are embedded; the result labels speech region `region` near centre."""

    start: int
    end: int
    region: int
    centre: int


def windows_for(
    regions: list[tuple[int, int]], total_samples: int, config: WindowConfig = WindowConfig()
) -> list[Window]:
    """Sliding windows over each region; a short region gets one window widened around it."""
    per_ms = SAMPLE_RATE // 1000
    win, hop, min_win = (
        config.window_ms * per_ms,
        config.hop_ms * per_ms,
        config.min_window_ms * per_ms,
    )
    out: list[Window] = []
    for r, (s, e) in enumerate(regions):
        if e - s < win:
            width = min(max(e - s, min_win), total_samples)
            mid = (s + e) // 2
            ws = min(max(0, mid - width // 2), total_samples - width)
            out.append(Window(ws, ws + width, r, mid))
            continue
        starts = list(range(s, e - win + 1, hop))
        if starts[-1] + win < e:
            starts.append(e - win)
        out.extend(Window(ws, ws + win, r, ws + win // 2) for ws in starts)
    return sorted(out, key=lambda w: (w.start, w.centre))
