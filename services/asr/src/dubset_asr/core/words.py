"""Segments from recogniser words: text as recognised, integer ms, a monotone timeline."""

from __future__ import annotations

from collections.abc import Sequence

from dubset_asr.core.model import RawWord, Segment, Word

_UNSPACED = frozenset({"ja", "zh", "th", "lo", "my", "yue"})
_SENTENCE_END = frozenset(".?!。？！…")
# A recogniser's segment can run over several lines of dialogue (Whisper joins utterances up to
# 30 s apart). Alignment needs one segment per utterance, so a segment is split where its words
# pause: after this long anywhere, or after this long behind a sentence end. Too fine a split is
# harmless: alignment merges segments again when the other language's speech spans them.
PAUSE_MS = 300
SENTENCE_PAUSE_MS = 150


def seconds_to_ms(seconds: float) -> int:
    return round(seconds * 1000.0)


def joiner(language: str) -> str:
    """How words join into text: nothing for Japanese (no spaces between words), else a space."""
    return "" if language in _UNSPACED else " "


def split_at_pauses(
    words: Sequence[RawWord],
    pause_ms: int = PAUSE_MS,
    sentence_pause_ms: int = SENTENCE_PAUSE_MS,
) -> list[list[RawWord]]:
    """words cut into utterances where they pause (see PAUSE_MS); empty words never split."""
    out: list[list[RawWord]] = []
    current: list[RawWord] = []
    for word in words:
        if current and word.text.strip():
            last = next((w for w in reversed(current) if w.text.strip()), None)
            if last is not None:
                gap = seconds_to_ms(word.start_s) - seconds_to_ms(last.end_s)
                ends = last.text.strip()[-1:] in _SENTENCE_END
                if gap >= pause_ms or (ends and gap >= sentence_pause_ms):
                    out.append(current)
                    current = []
        current.append(word)
    if current:
        out.append(current)
    return out


def build_segment(
    words: Sequence[RawWord],
    *,
    offset_ms: int = 0,
    duration_ms: int | None = None,
    floor_ms: int = 0,
) -> Segment | None:
    """A segment from raw words, shifted by offset_ms, clamped to [floor_ms, duration_ms].

    Words whose text is only whitespace are dropped and each word's text is stripped, its
    punctuation and case kept. The segment text is the words' texts joined as the recogniser
    spaced them: a space where a word began with whitespace, nothing elsewhere. So English
    "cold" + "-hearted" stays "cold-hearted", Japanese characters join directly, and the space
    Whisper puts between two Japanese sentences it leaves without 。 ("だめかも ただいま")
    stays: it is the only mark of where one line ends. None when no word remains. Starts
    never go backwards (floor_ms: the previous segment's start) and ends never precede starts.
    """
    out: list[Word] = []
    pieces: list[str] = []
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
        pieces.append(" " + text if pieces and raw.text[:1].isspace() else text)
        last = start
    if not out:
        return None
    return Segment(out[0].start_ms, max(w.end_ms for w in out), "".join(pieces), tuple(out))
