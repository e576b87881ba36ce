"""Clips packed into shared recognition windows, and the words heard sent back to their clips.

Whisper's encoder reads 30 s whatever the input: a 3-second clip recognised alone costs as much
as ten. Packed in order, with a second of silence before each, a window of up to 28 s holds
several clips and takes one encoder pass; each word the recogniser returns goes to the clip
under its middle (a word in a gap: the nearest clip).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_WINDOW_MS = 28_000  # under Whisper's 30 s, so one window is one encoder pass
GAP_MS = 1_000  # silence before each packed clip: a pause Whisper ends a segment at


@dataclass(frozen=True)
class Placed:
    """Clip `clip` (an index into the lengths given to pack) at `at_ms` in its window."""

    clip: int
    at_ms: int
    length_ms: int

    @property
    def end_ms(self) -> int:
        return self.at_ms + self.length_ms


@dataclass(frozen=True)
class Window:
    clips: tuple[Placed, ...]

    @property
    def length_ms(self) -> int:
        return self.clips[-1].end_ms


@dataclass(frozen=True)
class HeardWord:
    start_ms: int
    end_ms: int
    text: str


def pack(
    lengths_ms: Sequence[int], max_ms: int = MAX_WINDOW_MS, gap_ms: int = GAP_MS
) -> list[Window]:
    """The clips in order, each in the current window while it fits in max_ms (gap_ms of
    silence before every clip but a window's first), else in a new one; a clip longer than
    max_ms has a window of its own."""
    if any(n <= 0 for n in lengths_ms):
        raise ValueError("clip lengths must be positive")
    windows: list[list[Placed]] = []
    for i, length in enumerate(lengths_ms):
        current = windows[-1] if windows else None
        at = current[-1].end_ms + gap_ms if current else 0
        if current is not None and at + length <= max_ms:
            current.append(Placed(i, at, length))
        else:
            windows.append([Placed(i, 0, length)])
    return [Window(tuple(w)) for w in windows]


def _distance(middle: float, placed: Placed) -> float:
    return max(placed.at_ms - middle, middle - placed.end_ms, 0.0)


def assign(words: Sequence[HeardWord], window: Window) -> dict[int, list[str]]:
    """Per clip index, the texts of the words whose middle lies under it (or nearest to it),
    in the recogniser's order; clips that heard nothing are absent."""
    out: dict[int, list[str]] = {}
    for word in words:
        middle = (word.start_ms + word.end_ms) / 2
        nearest = min(window.clips, key=lambda p: (_distance(middle, p), p.at_ms))
        out.setdefault(nearest.clip, []).append(word.text)
    return out
