"""Each language's words regrouped into lines before the paper's rule: a line ends at a long
pause, or at a shorter one where the speaker changes or the other language is quiet too.

A recogniser's segments end at every sentence it hears end and at every silence of 300 ms
(English) / 400 ms (Japanese) in the voice activity map: a line said with a pause or two
sentences becomes two segments, and two lines said less than that apart become one. The
paper's rule then makes two clips of one line, or one of two (pairing both lines of the other
language with the fused segment). What tells a line break from a pause inside a line:

- a long pause (the recogniser's own cut, long_pause_ms) always breaks;
- a shorter one breaks when the diarized speaker before it is not the one after it;
- or when the other language is silent across the same moment: a dub line starts and ends
  with its original, so between two lines both tracks are quiet together, while inside a line
  the other language's pauses fall elsewhere.

Every word of a language's segments is kept once, in order, in the line whose stretch holds
its midpoint; a line runs from the end of the break before it to the start of the break after
it (or its words' own edges). Each line keeps the indices of the segments its words came from.
The paper's merge rule (align.py) then runs unchanged on the lines. Without a speech map
(subtitle cues, an older transcript) the segments are the lines.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from dubset_alignment.core.model import Alignment, Segment, Turn, Word
from dubset_common.timemap import TimeMap

Interval = tuple[int, int]
Silent = Callable[[int, int], float]  # share of [a, b) (this language's ms) the other is silent
LONG_PAUSE_MS = {"en": 300, "ja": 400}  # the ASR stage's cuts (dubset_asr.core.speech)


@dataclass(frozen=True)
class LineConfig:
    """min_pause_ms: the shortest pause of the speech map that may break a line on the
    speaker's or the other language's evidence (longer than the paper's 125 ms merge gap, so
    the two lines stay apart). speaker_window_ms: who speaks is read over this much time before
    and after the pause. other_silent_share: how much of the pause the other language must be
    silent for, and shared_pause_ms the shortest pause that breaks on that evidence.
    onset_lead_ms: a line may start this much before its stretch of the speech map does (the
    map's onset lags the voice). Tuned on generated episodes of the tuning seeds
    (docs/quality.md)."""

    min_pause_ms: int = 200
    speaker_window_ms: int = 500
    other_silent_share: float = 1.0
    shared_pause_ms: int = 250
    onset_lead_ms: int = 20


@dataclass(frozen=True)
class Evidence:
    """One language's: its speech map (sorted, disjoint), its diarized turns (any order), and
    how silent the other language is over a stretch of this language's timeline."""

    speech: Sequence[Interval]
    turns: Sequence[Turn]
    other_silent: Silent | None = None


@dataclass(frozen=True)
class Lines:
    segments: tuple[Segment, ...]
    sources: tuple[tuple[int, ...], ...]  # per line, the segments its words came from


def split_lines(
    segments: Sequence[Segment],
    evidence: Evidence,
    spaced: bool,
    long_pause_ms: int,
    config: LineConfig = LineConfig(),
) -> Lines:
    """The language's lines (module docstring); its segments unchanged without a speech map."""
    if not evidence.speech:
        return Lines(tuple(segments), tuple((i,) for i in range(len(segments))))
    words = [(w, i) for i, seg in enumerate(segments) for w in _words(seg)]
    pauses = [
        (a_end, b_start)
        for (_, a_end), (b_start, _) in pairwise(evidence.speech)
        if b_start - a_end >= min(config.min_pause_ms, long_pause_ms)
    ]
    breaks = [p for p in pauses if _is_break(p, evidence, long_pause_ms, config)]
    mids = [(a + b) / 2 for a, b in breaks]
    groups: list[list[tuple[Word, int]]] = [[] for _ in range(len(breaks) + 1)]
    for w, i in words:
        groups[bisect_right(mids, _mid(w))].append((w, i))
    lines: list[Segment] = []
    sources: list[tuple[int, ...]] = []
    for k, group in enumerate(groups):
        if not group:
            continue
        start, end = group[0][0].start_ms, max(w.end_ms for w, _ in group)
        if k > 0:
            start = max(start, breaks[k - 1][1] - config.onset_lead_ms)
        if k < len(breaks):
            end = min(end, breaks[k][0])
        text = (" " if spaced else "").join(t for t in (w.text.strip() for w, _ in group) if t)
        owners = tuple(sorted({i for _, i in group}))
        speakers = {segments[i].speaker for i in owners}
        speaker = speakers.pop() if len(speakers) == 1 else ""
        lines.append(Segment(start, max(start, end), text, speaker, tuple(w for w, _ in group)))
        sources.append(owners)
    return Lines(tuple(lines), tuple(sources))


def _words(seg: Segment) -> tuple[Word, ...]:
    """The segment's words; a segment without any is one word of its whole text."""
    return seg.words or (Word(seg.start_ms, seg.end_ms, seg.text),)


def _is_break(pause: Interval, evidence: Evidence, long_pause_ms: int, config: LineConfig) -> bool:
    start, end = pause
    if end - start >= long_pause_ms:
        return True
    if end - start < config.min_pause_ms:
        return False
    before = _speaker(evidence.turns, start - config.speaker_window_ms, start)
    after = _speaker(evidence.turns, end, end + config.speaker_window_ms)
    if before and after and before != after:
        return True
    silent = evidence.other_silent
    return (
        silent is not None
        and end - start >= config.shared_pause_ms
        and silent(start, end) >= config.other_silent_share
    )


def _speaker(turns: Sequence[Turn], start: int, end: int) -> str:
    """Who holds most of [start, end); "" when nobody speaks in it."""
    held: dict[str, int] = {}
    for t in turns:
        overlap = min(end, t.end_ms) - max(start, t.start_ms)
        if overlap > 0:
            held[t.speaker] = held.get(t.speaker, 0) + overlap
    return min(held, key=lambda s: (-held[s], s)) if held else ""


def _mid(w: Word) -> float:
    return (w.start_ms + w.end_ms) / 2


def silence_share(
    other_speech: Sequence[Interval], to_other: Callable[[float], float | None]
) -> Silent:
    """other_silent for Evidence: the share of a stretch of this language's timeline in which
    the other language (its speech map, sorted and disjoint) is silent. to_other maps this
    language's ms onto the other's timeline; a stretch it cannot map (outside what both
    releases share) has no evidence: 0."""
    firsts = [a for a, _ in other_speech]

    def silent(start: int, end: int) -> float:
        a, b = to_other(start), to_other(end)
        if a is None or b is None or b <= a:
            return 0.0
        spoken = 0.0
        for s, e in other_speech[max(0, bisect_right(firsts, a) - 1) :]:
            if s >= b:
                break
            spoken += max(0.0, min(e, b) - max(s, a))
        return 1.0 - spoken / (b - a)

    return silent


def crossings(
    ja_offset_ms: int, time_map: TimeMap | None
) -> tuple[Callable[[float], float | None], Callable[[float], float | None]]:
    """(EN ms → JA ms, JA ms → EN ms): through the time map's pieces when there is one (None
    outside them), else the offset."""
    if time_map is None:
        return (lambda t: t + ja_offset_ms), (lambda t: t - ja_offset_ms)
    tm = time_map

    def to_ja(t: float) -> float | None:
        k = tm.piece_of_en(t)
        return None if k is None else tm.pieces[k].to_ja(t)

    def to_en(t: float) -> float | None:
        k = tm.piece_of_ja(t)
        return None if k is None else tm.pieces[k].to_en(t)

    return to_ja, to_en


def back_to_sources(al: Alignment, en: Lines, ja: Lines) -> Alignment:
    """The alignment of lines with each clip's and unpaired index turned into those of the
    segments the lines' words came from (a segment cut in two may sit in two clips)."""

    def src(indices: Sequence[int], lines: Lines) -> tuple[int, ...]:
        return tuple(sorted({s for i in indices for s in lines.sources[i]}))

    clips = tuple(replace(c, en=src(c.en, en), ja=src(c.ja, ja)) for c in al.clips)
    return replace(
        al,
        clips=clips,
        unpaired_en=src(al.unpaired_en, en),
        unpaired_ja=src(al.unpaired_ja, ja),
        one_sided_en=src(al.one_sided_en, en),
        one_sided_ja=src(al.one_sided_ja, ja),
    )
