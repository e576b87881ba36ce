"""Official subtitles as the translation: each cue paired with the Japanese lines it translates.

Subtitle cues follow the Japanese speech but not its segmentation: a cue shows a little before
its line and stays after it, one cue may carry two recognised segments, two cues one long line.
A cue translates a line when they overlap by at least half of the shorter of the two; lines and
cues joined that way (transitively) are one translated line: the Japanese lines' span, their
texts and the cues' texts in order. A cue over no Japanese speech (a sign, a song, a line the
recogniser missed) is reported, and a line no cue covers is left untranslated and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_common.subtitles import Cue
from dubset_translation.core.model import JaLine

MIN_SHARE = 0.5


@dataclass(frozen=True)
class Pairing:
    groups: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # (line indices, cue indices)
    lonely_lines: tuple[int, ...]  # no cue covers them
    lonely_cues: tuple[int, ...]  # over no line


def _covers(cue: Cue, line: JaLine) -> bool:
    overlap = min(cue.end_ms, line.end_ms) - max(cue.start_ms, line.start_ms)
    shorter = min(cue.end_ms - cue.start_ms, line.duration_ms)
    return overlap > 0 and overlap >= MIN_SHARE * max(1, shorter)


def pair(lines: Sequence[JaLine], cues: Sequence[Cue]) -> Pairing:
    """Lines (in time order) and cues joined into translated groups (see the module docstring)."""
    parent = list(range(len(lines) + len(cues)))  # lines first, then cues

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for c, cue in enumerate(cues):
        for k, line in enumerate(lines):
            if line.start_ms >= cue.end_ms:
                break
            if _covers(cue, line):
                parent[root(len(lines) + c)] = root(k)
    members: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(len(parent)):
        group = members.setdefault(root(i), ([], []))
        (group[0].append(i) if i < len(lines) else group[1].append(i - len(lines)))
    groups, lonely_lines, lonely_cues = [], [], []
    for line_ids, cue_ids in members.values():
        if line_ids and cue_ids:
            cue_ids.sort(key=lambda c: (cues[c].start_ms, c))
            groups.append((tuple(sorted(line_ids)), tuple(cue_ids)))
        else:
            lonely_lines += line_ids
            lonely_cues += cue_ids
    groups.sort(key=lambda g: g[0][0])
    return Pairing(tuple(groups), tuple(sorted(lonely_lines)), tuple(sorted(lonely_cues)))
