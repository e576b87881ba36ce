"""Dubbing to the mouth flaps (pure): a line moved onto the speaking face's flaps, as far as
its fit allows. Flaps (the faces stage's mouth-open spans of the face speaking the line) are
joined across closures of up to FLAP_GAP_MS into the span the mouth moves; a line whose first
such span starts within MAX_SHIFT_MS of it starts there, and wants the length of the moving
mouth instead of the Japanese line's, never past the line's own deadline (start + budget)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dubset_tts.core.dublines import DubLine

FLAP_GAP_MS = 250
MAX_SHIFT_MS = 400

Span = tuple[int, int]


def moving(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= FLAP_GAP_MS:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def flap_window(line: DubLine, opened: Sequence[Span]) -> Span | None:
    """Where the mouth moves for this line: from the first moving span that starts within
    MAX_SHIFT_MS of the line to the end of the last one that starts before the line ends."""
    near = [s for s in moving(opened) if s[1] > line.start_ms - MAX_SHIFT_MS]
    near = [s for s in near if s[0] < line.end_ms]
    if not near or abs(near[0][0] - line.start_ms) > MAX_SHIFT_MS:
        return None
    return near[0][0], near[-1][1]


def on_flaps(line: DubLine, window: Span) -> DubLine:
    """The line started where the mouth starts to move and aimed at the moving mouth's length,
    its deadline kept."""
    deadline = line.start_ms + line.budget_ms
    start = min(window[0], deadline - 1)
    end = max(start + 1, min(window[1], deadline))
    return replace(line, start_ms=start, end_ms=end, budget_ms=deadline - start)
