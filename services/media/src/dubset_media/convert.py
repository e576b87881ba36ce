"""The one place protobuf messages and media values meet."""

from __future__ import annotations

from dataclasses import dataclass, field

from dubset.v1 import common_pb2, media_pb2
from dubset_common.runner import OPTIONAL
from dubset_media.core.model import (
    DEFAULT_CHANNELS,
    DEFAULT_MAX_DURATION_DIFF_MS,
    DEFAULT_MAX_OFFSET_MS,
    DEFAULT_SAMPLE_RATE_HZ,
    MediaInfo,
    OffsetEstimate,
    StreamInfo,
)

KINDS = {
    "audio": media_pb2.STREAM_KIND_AUDIO,
    "video": media_pb2.STREAM_KIND_VIDEO,
    "subtitle": media_pb2.STREAM_KIND_SUBTITLE,
}
LANGUAGES = {common_pb2.LANGUAGE_JA: "ja", common_pb2.LANGUAGE_EN: "en"}


@dataclass(frozen=True)
class MediaParams:
    """Media params (hashed into the stage's output key); a stream index None: the one that
    the language tag or the first audio stream picks."""

    sample_rate_hz: int
    channels: int
    ja_stream_index: int | None
    en_stream_index: int | None
    max_offset_ms: int
    max_duration_diff_ms: int
    # Subtitle streams to extract (unset: none); left out of the key while unset.
    ja_subtitle_stream: int | None = field(default=None, metadata=OPTIONAL)
    en_subtitle_stream: int | None = field(default=None, metadata=OPTIONAL)

    def stream_index(self, lang: str) -> int | None:
        return {"ja": self.ja_stream_index, "en": self.en_stream_index}[lang]

    def subtitle_stream(self, lang: str) -> int | None:
        return {"ja": self.ja_subtitle_stream, "en": self.en_subtitle_stream}[lang]


def params_from_proto(params: media_pb2.MediaParams) -> MediaParams:
    """The params with the service defaults filled in (unset stream index stays None)."""

    def opt(name: str) -> int | None:
        return int(getattr(params, name)) if params.HasField(name) else None  # type: ignore[arg-type]

    def get(name: str, default: int) -> int:
        value = opt(name)
        return default if value is None else value

    return MediaParams(
        sample_rate_hz=get("sample_rate_hz", DEFAULT_SAMPLE_RATE_HZ),
        channels=get("channels", DEFAULT_CHANNELS),
        ja_stream_index=opt("ja_stream_index"),
        en_stream_index=opt("en_stream_index"),
        max_offset_ms=get("max_offset_ms", DEFAULT_MAX_OFFSET_MS),
        max_duration_diff_ms=get("max_duration_diff_ms", DEFAULT_MAX_DURATION_DIFF_MS),
        ja_subtitle_stream=opt("ja_subtitle_stream"),
        en_subtitle_stream=opt("en_subtitle_stream"),
    )


def stream_to_proto(s: StreamInfo) -> media_pb2.StreamInfo:
    return media_pb2.StreamInfo(
        index=s.index,
        kind=KINDS.get(s.kind, media_pb2.STREAM_KIND_OTHER),
        codec=s.codec,
        language=s.language,
        title=s.title,
        is_default=s.is_default,
        duration_ms=s.duration_ms,
        bit_rate=s.bit_rate,
        sample_rate_hz=s.sample_rate_hz,
        channels=s.channels,
        width=s.width,
        height=s.height,
        frame_rate_num=s.frame_rate_num,
        frame_rate_den=s.frame_rate_den,
        channel_layout=s.channel_layout,
        is_commentary=s.is_commentary,
    )


def info_to_proto(info: MediaInfo, ref: common_pb2.MediaRef) -> media_pb2.MediaInfo:
    media = common_pb2.MediaRef()
    media.CopyFrom(ref)
    media.duration_ms = info.duration_ms
    return media_pb2.MediaInfo(
        media=media,
        container=info.container,
        duration_ms=info.duration_ms,
        size_bytes=info.size_bytes,
        bit_rate=info.bit_rate,
        streams=[stream_to_proto(s) for s in info.streams],
    )


def estimate_to_proto(est: OffsetEstimate) -> media_pb2.OffsetEstimate:
    return media_pb2.OffsetEstimate(
        ja_offset_ms=est.ja_offset_ms,
        confidence=est.confidence,
        same_episode=est.same_episode,
        method=est.method,
    )
