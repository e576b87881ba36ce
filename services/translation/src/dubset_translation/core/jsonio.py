"""translation.json and the stage's JSON inputs (transcript.json, turns.json)."""

from __future__ import annotations

import json

from dubset_common.jsondoc import load_object
from dubset_translation.core.model import Line, Translation, TranslationInputError

FORMAT = "dubset-translation/1"
MAX_ITEMS = 200_000


def _items(doc: dict[str, object], key: str, what: str) -> list[dict[str, object]]:
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TranslationInputError(f"{what}: {key} must be a list of objects")
    if len(value) > MAX_ITEMS:
        raise TranslationInputError(f"{what}: {len(value)} {key} is over {MAX_ITEMS}")
    return value


def _ms(item: dict[str, object], key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TranslationInputError(f"{where}.{key} must be a non-negative integer")
    return value


def parse_segments(data: bytes, what: str = "transcript.json") -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, text) of an ASR transcript's segments."""
    doc = load_object(data, what, TranslationInputError)
    out = []
    for i, item in enumerate(_items(doc, "segments", what)):
        where = f"{what} segments[{i}]"
        text = item.get("text", "")
        if not isinstance(text, str):
            raise TranslationInputError(f"{where}.text must be a string")
        out.append((_ms(item, "start_ms", where), _ms(item, "end_ms", where), text))
    return out


def parse_words(
    data: bytes, what: str = "transcript.json"
) -> dict[int, list[tuple[int, int, str]]]:
    """Per segment index, its words (start_ms, end_ms, text) where the transcript has them."""
    doc = load_object(data, what, TranslationInputError)
    out: dict[int, list[tuple[int, int, str]]] = {}
    for i, item in enumerate(_items(doc, "segments", what)):
        raw = item.get("words")
        if not isinstance(raw, list):
            continue
        words = []
        for k, w in enumerate(raw):
            where = f"{what} segments[{i}].words[{k}]"
            if not isinstance(w, dict) or not isinstance(w.get("text", ""), str):
                raise TranslationInputError(f"{where} must be an object with text")
            words.append(
                (_ms(w, "start_ms", where), _ms(w, "end_ms", where), str(w.get("text", "")))
            )
        out[i] = words
    return out


def parse_turns(data: bytes, what: str = "turns.json") -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, speaker) of a diarization's turns."""
    doc = load_object(data, what, TranslationInputError)
    out = []
    for i, item in enumerate(_items(doc, "turns", what)):
        where = f"{what} turns[{i}]"
        speaker = item.get("speaker")
        if not isinstance(speaker, str) or not speaker:
            raise TranslationInputError(f"{where}.speaker must be a non-empty string")
        out.append((_ms(item, "start_ms", where), _ms(item, "end_ms", where), speaker))
    return out


def line_doc(line: Line) -> dict[str, object]:
    doc: dict[str, object] = {
        "start_ms": line.start_ms,
        "end_ms": line.end_ms,
        "budget_ms": line.budget_ms,
        "speaker": line.speaker,
        "ja_text": line.ja_text,
        "en_text": line.en_text,
        "source": line.source,
        "segments": list(line.segments),
        "spoken_ms": line.spoken_ms,
        "fits": line.fits,
        "attempts": line.attempts,
    }
    if line.note:
        doc["note"] = line.note
    if line.character:
        doc["character"] = line.character
    return doc


def dumps(t: Translation, backend: str) -> bytes:
    """Deterministic translation.json: one line per line, UTF-8 text kept readable."""

    def one(v: object) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)

    body = ",\n".join(f"  {one(line_doc(line))}" for line in t.lines)
    return (
        f'{{"format": "{FORMAT}", "backend": {one(backend)},\n "lines": [\n{body}\n ],\n'
        f' "unmatched_cues": {one(list(t.unmatched_cues))}}}\n'
    ).encode()
