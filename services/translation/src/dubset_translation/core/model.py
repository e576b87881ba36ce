"""Domain values of translation."""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = ("subtitles", "whisper", "openai")


class TranslationInputError(ValueError):
    """The lines, subtitles or params cannot be translated: malformed, empty, mismatched."""


@dataclass(frozen=True)
class JaLine:
    """One Japanese line to translate: an ASR segment (or several a subtitle cue spans) on the
    video's timeline, with the diarized speaker who says most of it ("" when unknown)."""

    start_ms: int
    end_ms: int
    text: str
    speaker: str = ""
    segments: tuple[int, ...] = ()  # the transcript's segment indices it is made of

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Line:
    """A translated line: where the English should be spoken and how long it may take."""

    start_ms: int
    end_ms: int
    budget_ms: int  # from start_ms, up to the next line (a little silence kept)
    speaker: str
    ja_text: str
    en_text: str
    source: str  # a SOURCES entry
    segments: tuple[int, ...]
    spoken_ms: int  # how long the English takes at the params' speech rate (estimate)
    attempts: int = 1  # requests it took (a translation asked again to be shorter)
    note: str = ""  # why it is as it is (no subtitle covers it, still too long, ...)
    character: str = ""  # who says it by the subtitles' own names (ASS Name, VTT voice)

    @property
    def fits(self) -> bool:
        return self.spoken_ms <= self.budget_ms


@dataclass(frozen=True)
class Translation:
    lines: tuple[Line, ...]
    unmatched_cues: tuple[int, ...] = ()  # subtitle cues over no Japanese speech (signs, songs)
