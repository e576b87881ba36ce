"""The Anim-400K merge rule, written apart from the alignment service so that the truth it
gives can catch a bug in the service's version (tests cross-check the two).

Two segments, of either language, belong together when the gap between them is at most
max_gap_ms (overlap counts as no gap), and belonging together is transitive; a group holding
both languages is a clip pair from its earliest start to its latest end. This version links
every pair that is close enough and takes connected components (quadratic, for the few hundred
lines of a test episode); the service sweeps sorted segments once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_GAP_MS = 125  # the paper's rule, as the alignment service's default


@dataclass(frozen=True)
class Span:
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Pair:
    """A clip pair: the EN-timeline span, the JA-timeline span and the member lines."""

    en_start_ms: int
    en_end_ms: int
    ja_start_ms: int
    ja_end_ms: int
    en: tuple[int, ...]
    ja: tuple[int, ...]


def close(a: Span, b: Span, max_gap_ms: int) -> bool:
    """Whether the gap between a and b is at most max_gap_ms (overlapping spans have none)."""
    return max(a.start_ms, b.start_ms) - min(a.end_ms, b.end_ms) <= max_gap_ms


def components(spans: Sequence[Span], max_gap_ms: int) -> list[list[int]]:
    """Indices of spans linked, directly or through others, by close(); each list sorted."""
    label = list(range(len(spans)))

    def root(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i in range(len(spans)):
        for j in range(i + 1, len(spans)):
            if close(spans[i], spans[j], max_gap_ms):
                label[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(spans)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def merge(
    en: Sequence[Span], ja: Sequence[Span], ja_offset_ms: int, max_gap_ms: int = MAX_GAP_MS
) -> list[Pair]:
    """The clip pairs of en and ja (ja in its own timeline: JA time = EN time + ja_offset_ms),
    in time order."""
    shifted = [Span(s.start_ms - ja_offset_ms, s.end_ms - ja_offset_ms) for s in ja]
    spans = [*en, *shifted]
    pairs = []
    for group in components(spans, max_gap_ms):
        en_idx = tuple(i for i in group if i < len(en))
        ja_idx = tuple(i - len(en) for i in group if i >= len(en))
        if not en_idx or not ja_idx:
            continue
        start = min(spans[i].start_ms for i in group)
        end = max(spans[i].end_ms for i in group)
        pairs.append(Pair(start, end, start + ja_offset_ms, end + ja_offset_ms, en_idx, ja_idx))
    return sorted(pairs, key=lambda p: (p.en_start_ms, p.en_end_ms))
