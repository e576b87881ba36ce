"""Transcripts as the JSON the CLI prints and the stage writes (transcript.json)."""

from __future__ import annotations

import json

from dubset_asr.core.model import Transcript


def transcript_to_json(t: Transcript) -> dict[str, object]:
    value = _segments_json(t)
    if t.speech:
        value["speech"] = [[start, end] for start, end in t.speech]
    return value


def _segments_json(t: Transcript) -> dict[str, object]:
    return {
        "language": t.language,
        "segments": [
            {
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "text": s.text,
                "words": [
                    {
                        "start_ms": w.start_ms,
                        "end_ms": w.end_ms,
                        "text": w.text,
                        "confidence": w.confidence,
                    }
                    for w in s.words
                ],
            }
            for s in t.segments
        ],
    }


def dumps(t: Transcript) -> bytes:
    """Deterministic bytes: fixed key order, UTF-8 (Japanese unescaped), one trailing newline."""
    return (json.dumps(transcript_to_json(t), ensure_ascii=False) + "\n").encode()
