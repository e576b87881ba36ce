"""Parse the documented Amazon Transcribe batch output JSON into segments and words."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

from dubset_asr.core.model import AsrInputError, Segment, Transcript, Word
from dubset_asr.core.words import joiner, seconds_to_ms

LANGUAGE_CODES = {"ja": "ja-JP", "en": "en-US"}
SENTENCE_END = frozenset(".?!。？！")
DEFAULT_MAX_GAP_MS = 1000


class _Item:
    __slots__ = ("confidence", "content", "end_ms", "index", "kind", "start_ms")

    def __init__(
        self, index: int, kind: str, content: str, confidence: float, start: int, end: int
    ) -> None:
        self.index, self.kind, self.content = index, kind, content
        self.confidence, self.start_ms, self.end_ms = confidence, start, end


def _number(value: object, where: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AsrInputError(f"{where}: not a number: {value!r:.40}") from None
    if not math.isfinite(number) or number < 0:
        raise AsrInputError(f"{where}: out of range: {value!r:.40}")
    return number


def _items(raw: Sequence[object]) -> list[_Item]:
    out: list[_Item] = []
    for i, item in enumerate(raw):
        where = f"results.items[{i}]"
        if not isinstance(item, Mapping):
            raise AsrInputError(f"{where}: expected an object")
        alternatives = item.get("alternatives")
        if not isinstance(alternatives, list) or not alternatives:
            raise AsrInputError(f"{where}: no alternatives")
        best = alternatives[0]
        if not isinstance(best, Mapping) or not isinstance(best.get("content"), str):
            raise AsrInputError(f"{where}: alternatives[0].content missing")
        kind = item.get("type")
        if kind not in ("pronunciation", "punctuation"):
            raise AsrInputError(f"{where}: unknown type {kind!r:.40}")
        index = item.get("id", i)
        if isinstance(index, bool) or not isinstance(index, int):
            raise AsrInputError(f"{where}: id must be an integer")
        start = end = -1
        confidence = 0.0
        if kind == "pronunciation":
            start = seconds_to_ms(_number(item.get("start_time"), f"{where}.start_time"))
            end = seconds_to_ms(_number(item.get("end_time"), f"{where}.end_time"))
            if end < start:
                raise AsrInputError(f"{where}: end_time before start_time")
            confidence = min(1.0, _number(best.get("confidence", 0), f"{where}.confidence"))
        out.append(_Item(index, str(kind), best["content"].strip(), confidence, start, end))
    return out


def _words(items: Sequence[_Item]) -> list[Word]:
    """Pronunciation items become words; punctuation sticks to the word before it."""
    words: list[Word] = []
    for item in items:
        if item.kind == "punctuation":
            if words and item.content:
                w = words[-1]
                words[-1] = Word(w.start_ms, w.end_ms, w.text + item.content, w.confidence)
            continue
        if item.content:
            words.append(Word(item.start_ms, item.end_ms, item.content, round(item.confidence, 4)))
    return words


def _segment(words: Sequence[Word], language: str) -> Segment:
    text = joiner(language).join(w.text for w in words)
    return Segment(words[0].start_ms, max(w.end_ms for w in words), text, tuple(words))


def _split(words: Sequence[Word], language: str, max_gap_ms: int) -> list[Segment]:
    """Segments ending at sentence punctuation or at a silence longer than max_gap_ms."""
    segments: list[Segment] = []
    current: list[Word] = []
    for word in words:
        if current and word.start_ms - current[-1].end_ms > max_gap_ms:
            segments.append(_segment(current, language))
            current = []
        current.append(word)
        if word.text[-1] in SENTENCE_END:
            segments.append(_segment(current, language))
            current = []
    if current:
        segments.append(_segment(current, language))
    return segments


def parse_output(
    raw: bytes | str, language: str, *, max_gap_ms: int = DEFAULT_MAX_GAP_MS
) -> Transcript:
    """Segments from results.audio_segments when present, else by punctuation and gaps."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AsrInputError(f"transcript is not valid JSON ({exc})") from None
    results = doc.get("results") if isinstance(doc, Mapping) else None
    if not isinstance(results, Mapping) or not isinstance(results.get("items"), list):
        raise AsrInputError("transcript has no results.items list")
    code = results.get("language_code")
    if isinstance(code, str) and code != LANGUAGE_CODES.get(language, code):
        raise AsrInputError(f"transcript is {code}, expected {LANGUAGE_CODES[language]}")
    items = _items(results["items"])
    audio_segments = results.get("audio_segments")
    if not isinstance(audio_segments, list) or not audio_segments:
        return Transcript(language, tuple(_split(_words(items), language, max_gap_ms)))
    by_id = {item.index: item for item in items}
    segments: list[Segment] = []
    for i, seg in enumerate(audio_segments):
        ids = seg.get("items") if isinstance(seg, Mapping) else None
        if not isinstance(ids, list):
            raise AsrInputError(f"results.audio_segments[{i}]: items must be a list of ids")
        try:
            members = [by_id[int(x)] for x in ids]
        except (KeyError, TypeError, ValueError):
            raise AsrInputError(f"results.audio_segments[{i}]: unknown item id") from None
        words = _words(members)
        if words:
            segments.append(_segment(words, language))
    segments.sort(key=lambda s: (s.start_ms, s.end_ms))
    return Transcript(language, tuple(segments))
