"""Japanese lines from the transcript, who says them, and the time each English line may take.

An English line starts where its Japanese line starts. It may run past the Japanese end into
the silence after it, up to MAX_EXTEND_MS, but never to within GAP_MS of the next line: the dub
must not run into the next line, whoever says it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dubset_translation.core.model import JaLine, TranslationInputError

GAP_MS = 150  # silence kept before the next line
MAX_EXTEND_MS = 600  # how far past its Japanese end a line may run into silence


def speaker_of(start_ms: int, end_ms: int, turns: Sequence[tuple[int, int, str]]) -> str:
    """The label whose turns cover most of [start, end); ties to the smaller label."""
    covered: dict[str, int] = defaultdict(int)
    for a, b, label in turns:
        overlap = min(b, end_ms) - max(a, start_ms)
        if overlap > 0:
            covered[label] += overlap
    if not covered:
        return ""
    return min(covered.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def ja_lines(
    segments: Sequence[tuple[int, int, str]], turns: Sequence[tuple[int, int, str]] = ()
) -> list[JaLine]:
    """One line per transcript segment with text, in time order, each with its speaker."""
    out = []
    for i, (start, end, text) in enumerate(segments):
        if end < start:
            raise TranslationInputError(f"segment {i} ends ({end} ms) before it starts ({start})")
        if text.strip():
            out.append(JaLine(start, end, text.strip(), speaker_of(start, end, turns), (i,)))
    return sorted(out, key=lambda line: (line.start_ms, line.end_ms))


def budgets(lines: Sequence[JaLine]) -> list[int]:
    """Per line (in time order), the ms its English may take from the line's start."""
    out = []
    for k, line in enumerate(lines):
        limit = line.end_ms + MAX_EXTEND_MS
        if k + 1 < len(lines):
            limit = min(limit, lines[k + 1].start_ms - GAP_MS)
        out.append(max(line.duration_ms, limit - line.start_ms))
    return out
