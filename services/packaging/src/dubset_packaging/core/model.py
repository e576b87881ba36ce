"""Domain values of the packaging stage: spans, turns, planned clips and their errors."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("ja", "en")
# A clip shorter than this in either language after clamping into its video is dropped.
MIN_CLIP_MS = 100


class PackagingInputError(Exception):
    """An input document or video can never be packaged as given."""


@dataclass(frozen=True)
class Span:
    """A half-open interval [start_ms, end_ms) in one video's own timeline."""

    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def overlap_ms(self, other: Span) -> int:
        return max(0, min(self.end_ms, other.end_ms) - max(self.start_ms, other.start_ms))


@dataclass(frozen=True)
class Turn:
    """One diarization turn: who speaks when, in its language's timeline."""

    start_ms: int
    end_ms: int
    speaker: str

    @property
    def span(self) -> Span:
        return Span(self.start_ms, self.end_ms)


@dataclass(frozen=True)
class ClipPair:
    """One aligned clip as the alignment stage wrote it (EN and JA spans, own timelines)."""

    en: Span
    ja: Span
    en_text: str
    ja_text: str
    hints: tuple[str, ...] = ()  # speaker names the transcripts gave (subtitles' Actor field)


@dataclass(frozen=True)
class PlannedClip:
    """A clip clamped into both videos, with its ids and speakers: what gets cut and annotated."""

    index: int
    jp_clip: str
    en_clip: str
    ja: Span
    en: Span
    ja_text: str
    en_text: str
    speakers: tuple[str, ...]
    hints: tuple[str, ...] = ()

    def clip_id(self, language: str) -> str:
        return self.jp_clip if language == "ja" else self.en_clip

    def span(self, language: str) -> Span:
        return self.ja if language == "ja" else self.en


@dataclass(frozen=True)
class Plan:
    """The clips of one episode in EN time order, and how many were dropped by clamping."""

    clips: tuple[PlannedClip, ...]
    dropped: int
