"""Japanese lines from the transcript, who says them, and the time each English line may take.

An English line starts where its Japanese line starts. It may run past the Japanese end into
the silence after it, up to MAX_EXTEND_MS, but never to within GAP_MS of the next line: the dub
must not run into the next line, whoever says it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from dubset_translation.core.model import JaLine, TranslationInputError

GAP_MS = 150  # silence kept before the next line
MAX_EXTEND_MS = 600  # how far past its Japanese end a line may run into silence
MIN_RUN_MS = 400  # a speaker's run of words inside a segment shorter than this is not split off


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
    segments: Sequence[tuple[int, int, str]],
    turns: Sequence[tuple[int, int, str]] = (),
    words: Mapping[int, Sequence[tuple[int, int, str]]] | None = None,
) -> list[JaLine]:
    """One line per transcript segment with text, in time order, each with its speaker; a
    segment whose words (by segment index) two speakers say is split where the speaker
    changes (a recogniser often runs one character's line into the next's)."""
    out = []
    for i, (start, end, text) in enumerate(segments):
        if end < start:
            raise TranslationInputError(f"segment {i} ends ({end} ms) before it starts ({start})")
        if not text.strip():
            continue
        parts = by_speaker((words or {}).get(i, ()), turns) if turns else []
        if len(parts) > 1:
            out += [JaLine(a, b, t, who, (i,)) for a, b, t, who in parts]
        else:
            out.append(JaLine(start, end, text.strip(), speaker_of(start, end, turns), (i,)))
    return sorted(out, key=lambda line: (line.start_ms, line.end_ms))


def by_speaker(
    words: Sequence[tuple[int, int, str]], turns: Sequence[tuple[int, int, str]]
) -> list[tuple[int, int, str, str]]:
    """A segment's words in runs of one speaker: (start, end, text, speaker); a run shorter
    than MIN_RUN_MS joins the run before it (or after it, at the start)."""
    runs: list[list[tuple[int, int, str, str]]] = []
    for a, b, text in words:
        who = speaker_of(a, b, turns)
        if runs and runs[-1][0][3] == who:
            runs[-1].append((a, b, text, who))
        else:
            runs.append([(a, b, text, who)])
    merged: list[list[tuple[int, int, str, str]]] = []
    for run in runs:
        short = run[-1][1] - run[0][0] < MIN_RUN_MS
        if merged and (short or merged[-1][0][3] == run[0][3]):
            merged[-1] += [(a, b, t, merged[-1][0][3]) for a, b, t, _ in run]
        else:
            merged.append(run)
    if len(merged) > 1 and merged[0][-1][1] - merged[0][0][0] < MIN_RUN_MS:
        first = merged.pop(0)
        merged[0] = [(a, b, t, merged[0][0][3]) for a, b, t, _ in first] + merged[0]
    return [
        (run[0][0], run[-1][1], "".join(w[2] for w in run).strip(), run[0][3]) for run in merged
    ]


def budgets(lines: Sequence[JaLine]) -> list[int]:
    """Per line (in time order), the ms its English may take from the line's start."""
    out = []
    for k, line in enumerate(lines):
        limit = line.end_ms + MAX_EXTEND_MS
        if k + 1 < len(lines):
            limit = min(limit, lines[k + 1].start_ms - GAP_MS)
        out.append(max(line.duration_ms, limit - line.start_ms))
    return out
