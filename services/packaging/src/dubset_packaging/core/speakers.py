"""Episode-level speaker ids per clip from the EN and JA diarization turns.

The ids are the EN labels as they appear in the EN turns.json (e.g. `SPEAKER_00`). A JA label is
mapped onto the EN label its turns overlap most once moved into the EN timeline (JA time = EN
time + ja_offset_ms), ties going to the smaller EN label, so a clip whose speaker was found only
in the JA audio still gets the episode-level id. A JA label that never co-occurs with any EN
speaker keeps its own label prefixed `JA_` (it cannot collide with an EN label).

Where the transcripts name who speaks (a subtitle file's Actor field), the ids get names: a clip
with one speaker id and one name is a vote for that name, weighted by the clip's length, and an
id takes the name holding most of its votes, if more than half.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from dubset_common.timemap import TimeMap
from dubset_packaging.core.model import PlannedClip, Span, Turn

UNMATCHED_PREFIX = "JA_"
# A speaker belongs to a clip when their turns cover at least this much of it (or half a short
# clip): a turn that only grazes a clip's edge is a neighbour's line, not a voice in the clip.
MIN_SPEAKER_MS = 200


def map_ja_speakers(
    en_turns: Sequence[Turn],
    ja_turns: Sequence[Turn],
    ja_offset_ms: int,
    time_map: TimeMap | None = None,
) -> dict[str, str]:
    """Each JA label → the EN label it co-occurs with most (see the module docstring). With a
    time map, a JA turn moves through the piece holding its middle (none: it counts nowhere)."""
    overlap: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    en_sorted = sorted(en_turns, key=lambda t: (t.start_ms, t.end_ms))
    for ja in ja_turns:
        overlap[ja.speaker]  # a JA speaker with no EN overlap still gets an entry
        moved = _moved(ja, ja_offset_ms, time_map)
        if moved is None:
            continue
        for en in _overlapping(en_sorted, moved):
            overlap[ja.speaker][en.speaker] += en.span.overlap_ms(moved)
    mapping = {}
    for ja_label, counts in overlap.items():
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        mapping[ja_label] = best[0][0] if best else UNMATCHED_PREFIX + ja_label
    return dict(sorted(mapping.items()))


def _moved(ja: Turn, ja_offset_ms: int, time_map: TimeMap | None) -> Span | None:
    """A JA turn's span on the EN timeline."""
    if time_map is None:
        return Span(ja.start_ms - ja_offset_ms, ja.end_ms - ja_offset_ms)
    k = time_map.piece_of_ja((ja.start_ms + ja.end_ms) / 2)
    if k is None:
        return None
    piece = time_map.pieces[k]
    start, end = round(piece.to_en(ja.start_ms)), round(piece.to_en(ja.end_ms))
    return Span(start, max(start + 1, end))


def _overlapping(turns: Sequence[Turn], span: Span) -> list[Turn]:
    """Turns (sorted by start) that overlap span."""
    return [t for t in turns if t.start_ms < span.end_ms and t.end_ms > span.start_ms]


def _covered(turns: Sequence[Turn], span: Span) -> dict[str, int]:
    """Per speaker, how many ms of span their turns cover (overlapping turns of one speaker
    are counted once)."""
    per: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for t in _overlapping(turns, span):
        per[t.speaker].append((max(t.start_ms, span.start_ms), min(t.end_ms, span.end_ms)))
    covered = {}
    for speaker, pieces in per.items():
        total, end = 0, span.start_ms
        for begin, stop in sorted(pieces):
            start = max(begin, end)
            if stop > start:
                total += stop - start
                end = stop
        covered[speaker] = total
    return covered


def clip_speakers(
    en_span: Span,
    ja_span: Span,
    en_turns: Sequence[Turn],
    ja_turns: Sequence[Turn],
    ja_to_en: Mapping[str, str],
) -> tuple[str, ...]:
    """The episode-level speaker ids present in a clip, sorted."""
    found: set[str] = set()
    for turns, span, rename in ((en_turns, en_span, None), (ja_turns, ja_span, ja_to_en)):
        need = min(MIN_SPEAKER_MS, max(1, span.duration_ms // 2))
        for speaker, ms in _covered(turns, span).items():
            if ms >= need:
                found.add(rename.get(speaker, UNMATCHED_PREFIX + speaker) if rename else speaker)
    return tuple(sorted(found))


def name_speakers(clips: Sequence[PlannedClip]) -> dict[str, str]:
    """Speaker id → the name the clips' hints give it (see the module docstring)."""
    votes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for clip in clips:
        if len(clip.speakers) == 1 and len(clip.hints) == 1:
            votes[clip.speakers[0]][clip.hints[0]] += max(1, clip.en.duration_ms)
    names = {}
    for speaker, counts in votes.items():
        name, most = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if 2 * most > sum(counts.values()):
            names[speaker] = name
    return dict(sorted(names.items()))
