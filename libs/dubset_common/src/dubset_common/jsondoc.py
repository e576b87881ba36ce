"""The JSON documents a stage is given: bytes to an object, or the stage's input error."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol


def load_object(data: bytes, what: str, input_error: type[Exception]) -> dict[str, object]:
    """A JSON object from bytes, or input_error naming the document `what`."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise input_error(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise input_error(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


class ClipLike(Protocol):
    """An aligned clip pair: alignment's Clip, or the proto Clip a PackageRequest carries."""

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...

    @property
    def ja_start_ms(self) -> int: ...

    @property
    def ja_end_ms(self) -> int: ...

    @property
    def en_text(self) -> str: ...

    @property
    def ja_text(self) -> str: ...

    @property
    def en(self) -> Iterable[int]: ...

    @property
    def ja(self) -> Iterable[int]: ...


def clip_doc(c: ClipLike) -> dict[str, object]:
    """One entry of clips.json (alignment writes it, packaging reads it)."""
    return {
        "start_ms": c.start_ms,
        "end_ms": c.end_ms,
        "ja_start_ms": c.ja_start_ms,
        "ja_end_ms": c.ja_end_ms,
        "en": list(c.en),
        "ja": list(c.ja),
        "en_text": c.en_text,
        "ja_text": c.ja_text,
    }
