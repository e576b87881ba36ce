"""The Anim-400K rule: JA and EN segments within max_gap_ms of each other merge, transitively."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from dubset_alignment.core.model import (
    DEFAULT_MAX_GAP_MS,
    Alignment,
    AlignmentInputError,
    ClipPair,
    Segment,
)

EN, JA = 0, 1


@dataclass(frozen=True)
class Item:
    start: int  # EN timeline
    end: int
    lang: int
    index: int
    text: str


def align(
    en: Sequence[Segment],
    ja: Sequence[Segment],
    max_gap_ms: int = DEFAULT_MAX_GAP_MS,
    ja_offset_ms: int = 0,
) -> Alignment:
    """Group segments of either language whose gap is <= max_gap_ms (overlap counts), transitively.

    JA times map onto the EN timeline as EN = JA - ja_offset_ms. A group with both languages is
    a clip pair spanning its earliest start to its latest end; other groups are unpaired.
    Sorting dominates: O(n log n).
    """
    check_int("max_gap_ms", max_gap_ms)
    check_int("ja_offset_ms", ja_offset_ms, allow_negative=True)
    items = [item(s, EN, i, 0, "en") for i, s in enumerate(en)]
    items += [item(s, JA, i, ja_offset_ms, "ja") for i, s in enumerate(ja)]
    items.sort(key=lambda it: (it.start, it.end, it.lang, it.index))
    clips: list[ClipPair] = []
    unpaired: tuple[list[int], list[int]] = ([], [])
    for group in groups(items, max_gap_ms):
        langs = {it.lang for it in group}
        if langs == {EN, JA}:
            clips.append(_clip(group, ja_offset_ms))
        else:
            unpaired[group[0].lang].extend(it.index for it in group)
    return Alignment(tuple(clips), tuple(sorted(unpaired[EN])), tuple(sorted(unpaired[JA])))


def groups(items: list[Item], max_gap_ms: int) -> list[list[Item]]:
    """Sweep by start: an item joins the open group when it starts within the gap of its end."""
    groups: list[list[Item]] = []
    group_end = 0
    for it in items:
        if groups and it.start - group_end <= max_gap_ms:
            groups[-1].append(it)
            group_end = max(group_end, it.end)
        else:
            groups.append([it])
            group_end = it.end
    return groups


def _clip(group: list[Item], ja_offset_ms: int) -> ClipPair:
    start = min(it.start for it in group)
    end = max(it.end for it in group)
    en = [it for it in group if it.lang == EN]
    ja = [it for it in group if it.lang == JA]
    return ClipPair(
        start_ms=start,
        end_ms=end,
        ja_start_ms=start + ja_offset_ms,
        ja_end_ms=end + ja_offset_ms,
        en=tuple(sorted(it.index for it in en)),
        ja=tuple(sorted(it.index for it in ja)),
        en_text=join(en, spaced=True),
        ja_text=join(ja, spaced=False),
    )


def join(items: list[Item], *, spaced: bool) -> str:
    """Member texts in time order (items arrive sorted by start), punctuation and case kept.

    English joins with a space. Japanese joins directly after punctuation ("ね。" + "私" is
    "ね。私"), else with a space: two segments are two stretches of speech, and a space is how
    Whisper itself marks a sentence end it leaves without 。, so unpunctuated lines do not run
    together. Scoring drops the space (normalise_ja), so CER does not change.
    """
    texts = [t for t in (it.text.strip() for it in items) if t]
    out = texts[:1]
    for text in texts[1:]:
        glued = not spaced and (_is_punctuation(out[-1][-1]) or _is_punctuation(text[0]))
        out.append(text if glued else f" {text}")
    return "".join(out)


def _is_punctuation(char: str) -> bool:
    """Unicode punctuation (category P*): 。、「」…〜 and .,!? in either width; not ー."""
    return unicodedata.category(char).startswith("P")


def item(seg: Segment, lang: int, index: int, offset: int, name: str) -> Item:
    where = f"{name} segment {index}"
    if not isinstance(seg, Segment):
        raise AlignmentInputError(f"{where}: not a segment")
    check_int(f"{where} start_ms", seg.start_ms)
    check_int(f"{where} end_ms", seg.end_ms)
    if seg.end_ms < seg.start_ms:
        raise AlignmentInputError(f"{where}: end_ms {seg.end_ms} < start_ms {seg.start_ms}")
    if not isinstance(seg.text, str):
        raise AlignmentInputError(f"{where}: text must be a string")
    return Item(seg.start_ms - offset, seg.end_ms - offset, lang, index, seg.text)


def check_int(name: str, value: object, *, allow_negative: bool = False) -> None:
    if isinstance(value, float) and math.isnan(value):
        raise AlignmentInputError(f"{name} is NaN")
    if isinstance(value, bool) or not isinstance(value, int):
        raise AlignmentInputError(
            f"{name} must be an integer number of milliseconds, got {value!r:.40}"
        )
    if value < 0 and not allow_negative:
        raise AlignmentInputError(f"{name} is negative ({value})")
