"""Domain values of alignment."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_GAP_MS = 125


class AlignmentInputError(ValueError):
    """The segments or parameters cannot be aligned: malformed, negative, NaN, end < start."""


@dataclass(frozen=True)
class Word:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Segment:
    """One ASR segment in its own video's timeline."""

    start_ms: int
    end_ms: int
    text: str = ""
    speaker: str = ""  # who the transcript says speaks (a subtitle's Actor), if it says
    words: tuple[Word, ...] = ()  # the recogniser's, when the transcript has them


@dataclass(frozen=True)
class Turn:
    """A diarized speaker turn in its own video's timeline."""

    start_ms: int
    end_ms: int
    speaker: str


@dataclass(frozen=True)
class ClipPair:
    """A group with both languages: EN-timeline span, JA-timeline span, member indices."""

    start_ms: int
    end_ms: int
    ja_start_ms: int
    ja_end_ms: int
    en: tuple[int, ...]
    ja: tuple[int, ...]
    en_text: str
    ja_text: str


@dataclass(frozen=True)
class Alignment:
    clips: tuple[ClipPair, ...]
    unpaired_en: tuple[int, ...]
    unpaired_ja: tuple[int, ...]
    # Of the unpaired: segments in a stretch the other release does not have (a time map).
    one_sided_en: tuple[int, ...] = ()
    one_sided_ja: tuple[int, ...] = ()
