"""Subtitle-sourced transcripts (transcript.json with source "subtitles"): how far each
segment's edges lie from the truth line it overlaps most, per where its times come from
(segment_sources), and whether its speaker name (segment_speakers) is that line's character.

Times are compared as they are: a transcript of a language is on that language's video
timeline, as the truth's lines of that language are (the same as the DER and clip scores).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dubset_common.subtitles import parse
from dubset_eval.clips import percentile
from dubset_eval.fields import FieldError, strings
from dubset_eval.results import parse_segments
from dubset_eval.truth import Line, Utterance

SOURCE = "subtitles"
ALIGNED = "subtitle-aligned"  # cue text force-aligned to the speech
CUE = "subtitle-cue"  # the cue's own times kept
ALL = "all"
RAW = "raw-cues"  # the release's subtitle file itself, for comparison
KINDS = (ALIGNED, CUE, ALL)


@dataclass(frozen=True)
class SubSegment:
    start_ms: int
    end_ms: int
    source: str  # its segment_sources entry (RAW for a subtitle file's own cue)
    speaker: str = ""  # the name the subtitles give, "" for none


@dataclass(frozen=True)
class TimingScore:
    """Segments, those that overlap a truth line, the |error| of their start and end edges
    against that line's (ms), and of the matched segments with a speaker name, how many name
    the line's character."""

    segments: int
    matched: int
    start_errors_ms: tuple[int, ...]
    end_errors_ms: tuple[int, ...]
    named: int
    named_right: int

    @property
    def start_p50_ms(self) -> float | None:
        return percentile(self.start_errors_ms, 50)

    @property
    def start_p95_ms(self) -> float | None:
        return percentile(self.start_errors_ms, 95)

    @property
    def end_p50_ms(self) -> float | None:
        return percentile(self.end_errors_ms, 50)

    @property
    def end_p95_ms(self) -> float | None:
        return percentile(self.end_errors_ms, 95)

    @property
    def edge_p50_ms(self) -> float | None:
        """Of both edges together."""
        return percentile(self.start_errors_ms + self.end_errors_ms, 50)

    @property
    def edge_p95_ms(self) -> float | None:
        return percentile(self.start_errors_ms + self.end_errors_ms, 95)

    @property
    def speaker_accuracy(self) -> float | None:
        return self.named_right / self.named if self.named else None


def parse_subtitle_segments(value: Mapping[str, object]) -> tuple[SubSegment, ...] | None:
    """The segments of a subtitle-sourced transcript with their sources and speakers; None for
    a transcript of another source. FieldError when the lists do not match the segments."""
    if value.get("source") != SOURCE:
        return None
    segments = parse_segments(value)
    sources = strings(value, "segment_sources", "transcript")
    speakers = (
        strings(value, "segment_speakers", "transcript")
        if "segment_speakers" in value
        else ("",) * len(segments)
    )
    for key, items in (("segment_sources", sources), ("segment_speakers", speakers)):
        if len(items) != len(segments):
            raise FieldError(f"{key}: {len(items)} entries for {len(segments)} segments")
    return tuple(
        SubSegment(s.start_ms, s.end_ms, source, speaker)
        for s, source, speaker in zip(segments, sources, speakers, strict=True)
    )


def read_cue_segments(path: Path) -> tuple[SubSegment, ...]:
    """A subtitle file's cues as segments (their actors as speakers); OSError or ValueError."""
    return tuple(
        SubSegment(c.start_ms, c.end_ms, RAW, c.actor) for c in parse(path.read_bytes(), path.name)
    )


def best_line(
    segment: SubSegment, spoken: Sequence[tuple[Line, Utterance]]
) -> tuple[Line, Utterance] | None:
    """The truth line the segment overlaps longest (the earliest of equals), None for none."""
    best, most = None, 0
    for line, u in spoken:
        overlap = min(segment.end_ms, u.end_ms) - max(segment.start_ms, u.start_ms)
        if overlap > most:
            best, most = (line, u), overlap
    return best


def _same_name(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def score_timing(
    segments: Sequence[SubSegment],
    spoken: Sequence[tuple[Line, Utterance]],
    name: Callable[[str], str],
) -> TimingScore:
    """Each segment against the line it overlaps most; name(speaker id) is a character's name."""
    ordered = sorted(spoken, key=lambda lu: (lu[1].start_ms, lu[0].index))
    starts: list[int] = []
    ends: list[int] = []
    named = right = 0
    for segment in segments:
        hit = best_line(segment, ordered)
        if hit is None:
            continue
        line, u = hit
        starts.append(abs(segment.start_ms - u.start_ms))
        ends.append(abs(segment.end_ms - u.end_ms))
        if segment.speaker.strip():
            named += 1
            right += _same_name(segment.speaker, name(line.speaker))
    return TimingScore(len(segments), len(starts), tuple(starts), tuple(ends), named, right)


def timing_scores(
    segments: Sequence[SubSegment],
    spoken: Sequence[tuple[Line, Utterance]],
    name: Callable[[str], str],
) -> list[tuple[str, TimingScore]]:
    """The score of the aligned segments, of those that kept the cue's times, and of all."""
    return [
        (kind, score_timing([s for s in segments if kind in (ALL, s.source)], spoken, name))
        for kind in KINDS
    ]
