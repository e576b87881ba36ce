"""The quality stage's values: clip pairs in, signals and a score per pair out."""

from __future__ import annotations

from dataclasses import dataclass

from dubset_common.clipquality import SIGNALS

__all__ = ["LANGUAGES", "SIGNALS", "Pair", "QualityInputError", "Turn", "Word"]

LANGUAGES = ("ja", "en")


class QualityInputError(ValueError):
    """Inputs the stage cannot score (malformed fragment, transcript or turns, bad audio)."""


@dataclass(frozen=True)
class Pair:
    """One clip pair of the episode fragment: its ids and each language's span (ms, in that
    language's own video)."""

    jp_clip: str
    en_clip: str
    jp_text: str
    en_text: str
    ja_start_ms: int
    ja_end_ms: int
    en_start_ms: int
    en_end_ms: int

    def span(self, language: str) -> tuple[int, int]:
        if language == "ja":
            return self.ja_start_ms, self.ja_end_ms
        return self.en_start_ms, self.en_end_ms

    def text(self, language: str) -> str:
        return self.jp_text if language == "ja" else self.en_text


@dataclass(frozen=True)
class Word:
    start_ms: int
    end_ms: int
    confidence: float


@dataclass(frozen=True)
class Turn:
    start_ms: int
    end_ms: int
    speaker: str
