"""Domain values of the media stage: streams, probed files, offset estimates and their errors."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SAMPLE_RATE_HZ = 16_000
DEFAULT_CHANNELS = 1
DEFAULT_MAX_OFFSET_MS = 300_000
DEFAULT_MAX_DURATION_DIFF_MS = 300_000
MIN_DURATION_MS = 1_000
MAX_DURATION_MS = 4 * 3600 * 1000


class MediaInputError(Exception):
    """A file or pair of files that can never be processed (bad, hostile or mismatched)."""


class NotSameEpisodeError(MediaInputError):
    """The two soundtracks do not share a backing track: not one episode."""


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a container as ffprobe reports it; kind is audio, video, subtitle, other."""

    index: int
    kind: str
    codec: str
    language: str = ""
    title: str = ""
    is_default: bool = False
    duration_ms: int = 0
    bit_rate: int = 0
    sample_rate_hz: int = 0
    channels: int = 0
    width: int = 0
    height: int = 0
    frame_rate_num: int = 0
    frame_rate_den: int = 0
    attached_pic: bool = False
    channel_layout: str = ""  # audio only, e.g. stereo, 5.1(side)
    is_commentary: bool = False  # disposition comment or visual_impaired (audio description)


@dataclass(frozen=True)
class MediaInfo:
    """A probed media file."""

    container: str
    duration_ms: int
    size_bytes: int
    bit_rate: int
    streams: tuple[StreamInfo, ...] = field(default_factory=tuple)

    def of_kind(self, kind: str) -> tuple[StreamInfo, ...]:
        return tuple(s for s in self.streams if s.kind == kind)


@dataclass(frozen=True)
class Limits:
    """What a playable episode video must satisfy."""

    min_duration_ms: int = MIN_DURATION_MS
    max_duration_ms: int = MAX_DURATION_MS


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class OffsetEstimate:
    """JA time = EN time + ja_offset_ms; confidence in 0..1."""

    ja_offset_ms: int
    confidence: float
    same_episode: bool
    method: str
    offset_samples: int = 0
    sample_rate_hz: int = 0
    coarse_score: float = 0.0
    fine_score: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "ja_offset_ms": self.ja_offset_ms,
            "confidence": round(self.confidence, 4),
            "same_episode": self.same_episode,
            "method": self.method,
            "offset_samples": self.offset_samples,
            "sample_rate_hz": self.sample_rate_hz,
            "coarse_score": round(self.coarse_score, 3),
            "fine_score": round(self.fine_score, 3),
        }
