"""Segments from recogniser words: text joining per language, integer ms, a monotone timeline."""

from __future__ import annotations

from collections.abc import Sequence

from dubset_asr.core.model import RawWord, Segment, Word

_UNSPACED = frozenset({"ja", "zh", "th", "lo", "my", "yue"})


def seconds_to_ms(seconds: float) -> int:
    return round(seconds * 1000.0)


def joiner(language: str) -> str:
    """How words join into text: nothing for Japanese (no spaces between words), else a space."""
    return "" if language in _UNSPACED else " "


def build_segment(
    words: Sequence[RawWord],
    language: str,
    *,
    offset_ms: int = 0,
    duration_ms: int | None = None,
    floor_ms: int = 0,
) -> Segment | None:
    """A segment from raw words, shifted by offset_ms, clamped to [floor_ms, duration_ms].

    Words whose text is only whitespace are dropped and each word's text is stripped. The
    segment text is the words' texts joined: with nothing in Japanese; in English with a space
    where the recogniser's word began with one (so "cold" + "-hearted" stays "cold-hearted").
    None when no word remains. Starts never go backwards (floor_ms: the previous segment's
    start) and ends never precede starts.
    """
    out: list[Word] = []
    pieces: list[str] = []
    sep = joiner(language)
    last = floor_ms
    for raw in words:
        text = raw.text.strip()
        if not text:
            continue
        start = max(last, seconds_to_ms(raw.start_s) + offset_ms)
        end = max(start, seconds_to_ms(raw.end_s) + offset_ms)
        if duration_ms is not None:
            start, end = min(start, duration_ms), min(end, duration_ms)
        confidence = min(1.0, max(0.0, round(float(raw.probability), 4)))
        out.append(Word(start, end, text, confidence))
        pieces.append(sep + text if pieces and sep and raw.text[:1].isspace() else text)
        last = start
    if not out:
        return None
    return Segment(out[0].start_ms, max(w.end_ms for w in out), "".join(pieces), tuple(out))
