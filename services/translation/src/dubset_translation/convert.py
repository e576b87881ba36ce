"""The one place protobuf messages and translation's core values meet."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dubset.v1 import translation_pb2
from dubset_translation.core.fit import DEFAULT_RATE
from dubset_translation.core.model import SOURCES, Line, Translation, TranslationInputError

APIS = ("chat", "completions")
MAX_ENDPOINT_CHARS = 2048


@dataclass(frozen=True)
class TranslationParams:
    """Validated translation params (hashed into the stage's output key). backend "" is decided
    per request: subtitles when the request has them, else whisper."""

    backend: str
    model: str
    speech_rate: float
    endpoint: str
    api: str


def params_from_proto(p: translation_pb2.TranslationParams) -> TranslationParams:
    if p.backend not in ("", *SOURCES):
        raise TranslationInputError(
            f"unknown translation backend {p.backend!r:.40}: use {', '.join(SOURCES)}"
        )
    rate = p.speech_rate or DEFAULT_RATE
    if not math.isfinite(rate) or not 1.0 <= rate <= 12.0:
        raise TranslationInputError(f"speech_rate must be 1-12 syllables per second, not {rate}")
    api = p.api or "chat"
    if api not in APIS:
        raise TranslationInputError(f"api must be chat or completions, not {p.api!r:.40}")
    if p.backend == "openai":
        if not p.endpoint.startswith(("http://", "https://")) or len(p.endpoint) > 2048:
            raise TranslationInputError(
                f"the openai backend needs endpoint, an http(s) URL, not {p.endpoint!r:.80}"
            )
        if not p.model:
            raise TranslationInputError("the openai backend needs model (the server's name)")
    elif p.endpoint:
        raise TranslationInputError(f"endpoint is for the openai backend, not {p.backend!r}")
    return TranslationParams(p.backend, p.model, rate, p.endpoint.rstrip("/"), api)


def line_to_proto(line: Line) -> translation_pb2.TranslationLine:
    return translation_pb2.TranslationLine(
        start_ms=line.start_ms,
        end_ms=line.end_ms,
        budget_ms=line.budget_ms,
        speaker=line.speaker,
        ja_text=line.ja_text,
        en_text=line.en_text,
        source=line.source,
        spoken_ms=line.spoken_ms,
        attempts=line.attempts,
        note=line.note,
    )


def translation_to_proto(t: Translation, backend: str) -> translation_pb2.TranslateResponse:
    return translation_pb2.TranslateResponse(
        lines=[line_to_proto(line) for line in t.lines],
        unmatched_cues=list(t.unmatched_cues),
        backend=backend,
    )
