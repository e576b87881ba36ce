"""The Anim-400K rule across a time map: segments brought onto one timeline piece by piece.

An edited dub is the original plus pieces (a card inserted, a recap cut, a PAL speed-up). Each
segment belongs to the piece holding its midpoint in its own timeline; JA segments move onto
the EN timeline through their piece. The paper's rule then merges within each piece alone, so
a clip never straddles a break, and its JA span comes back through the same piece. Speech in a
stretch one release has alone belongs to no piece: it stays unpaired and is reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from dubset_alignment.core.align import EN, JA, Item, check_int, groups, item, join
from dubset_alignment.core.model import Alignment, ClipPair, Segment
from dubset_common.timemap import Piece, TimeMap


def align_mapped(
    en: Sequence[Segment], ja: Sequence[Segment], max_gap_ms: int, time_map: TimeMap
) -> Alignment:
    """align() with JA times brought onto the EN timeline by time_map instead of an offset."""
    check_int("max_gap_ms", max_gap_ms)
    per_piece: list[list[Item]] = [[] for _ in time_map.pieces]
    one_sided: tuple[list[int], list[int]] = ([], [])
    for i, s in enumerate(en):
        it = item(s, EN, i, 0, "en")
        k = time_map.piece_of_en((it.start + it.end) / 2)
        (one_sided[EN].append(i) if k is None else per_piece[k].append(it))
    for i, s in enumerate(ja):
        it = item(s, JA, i, 0, "ja")
        k = time_map.piece_of_ja((it.start + it.end) / 2)
        if k is None:
            one_sided[JA].append(i)
            continue
        p = time_map.pieces[k]
        start, end = round(p.to_en(it.start)), round(p.to_en(it.end))
        per_piece[k].append(Item(start, max(start, end), JA, i, it.text))
    clips: list[ClipPair] = []
    unpaired: tuple[list[int], list[int]] = (list(one_sided[EN]), list(one_sided[JA]))
    for piece, items in zip(time_map.pieces, per_piece, strict=True):
        items.sort(key=lambda it: (it.start, it.end, it.lang, it.index))
        for group in groups(items, max_gap_ms):
            if {it.lang for it in group} == {EN, JA}:
                clips.append(_clip(group, piece))
            else:
                unpaired[group[0].lang].extend(it.index for it in group)
    return Alignment(
        tuple(clips),
        tuple(sorted(unpaired[EN])),
        tuple(sorted(unpaired[JA])),
        one_sided_en=tuple(one_sided[EN]),
        one_sided_ja=tuple(one_sided[JA]),
    )


def _clip(group: list[Item], piece: Piece) -> ClipPair:
    """The group's span, kept inside its piece in both timelines."""
    start = max(piece.en_start_ms, min(it.start for it in group))
    end = min(piece.en_end_ms, max(it.end for it in group))
    ja_start = max(piece.ja_start_ms, round(piece.to_ja(start)))
    ja_end = min(piece.ja_end_ms, round(piece.to_ja(end)))
    en_items = [it for it in group if it.lang == EN]
    ja_items = [it for it in group if it.lang == JA]
    return ClipPair(
        start_ms=start,
        end_ms=max(start, end),
        ja_start_ms=ja_start,
        ja_end_ms=max(ja_start, ja_end),
        en=tuple(sorted(it.index for it in en_items)),
        ja=tuple(sorted(it.index for it in ja_items)),
        en_text=join(en_items, spaced=True),
        ja_text=join(ja_items, spaced=False),
    )
