"""ffprobe's JSON report to MediaInfo, and the checks a usable episode video passes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from fractions import Fraction

from dubset_media.core.model import DEFAULT_LIMITS, Limits, MediaInfo, MediaInputError, StreamInfo

# Demuxers that read other files or URLs named inside the input, or sequences of files.
REFERENCING_FORMATS = frozenset(
    {
        "hls",
        "applehttp",
        "concat",
        "ffconcat",
        "image2",
        "image2pipe",
        "dash",
        "mpd",
        "tee",
        "sdp",
        "rtsp",
        "rtp",
        "mmsh",
        "mmst",
        "ffmetadata",
        "lavfi",
        "smil",
        "http",
        "data",
    }
)
KINDS = {"audio": "audio", "video": "video", "subtitle": "subtitle"}


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0


def _ms(seconds: object) -> int:
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    return round(value * 1000) if math.isfinite(value) and value >= 0 else 0


def _rate(text: object) -> tuple[int, int]:
    try:
        frac = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return 0, 0
    return (frac.numerator, frac.denominator) if frac > 0 else (0, 0)


def _stream(raw: Mapping[str, object]) -> StreamInfo:
    tags = raw.get("tags") if isinstance(raw.get("tags"), Mapping) else {}
    disposition = raw.get("disposition") if isinstance(raw.get("disposition"), Mapping) else {}
    assert isinstance(tags, Mapping) and isinstance(disposition, Mapping)
    kind = KINDS.get(str(raw.get("codec_type", "")), "other")
    num, den = _rate(raw.get("avg_frame_rate")) if kind == "video" else (0, 0)
    if kind == "video" and num == 0:
        num, den = _rate(raw.get("r_frame_rate"))
    return StreamInfo(
        index=_int(raw.get("index")),
        kind=kind,
        codec=str(raw.get("codec_name", "")),
        language=str(tags.get("language", "")).lower() if tags.get("language") != "und" else "",
        title=str(tags.get("title", "")),
        is_default=bool(disposition.get("default")),
        duration_ms=_ms(raw.get("duration")),
        bit_rate=_int(raw.get("bit_rate")),
        sample_rate_hz=_int(raw.get("sample_rate")) if kind == "audio" else 0,
        channels=_int(raw.get("channels")) if kind == "audio" else 0,
        width=_int(raw.get("width")) if kind == "video" else 0,
        height=_int(raw.get("height")) if kind == "video" else 0,
        frame_rate_num=num,
        frame_rate_den=den,
        attached_pic=bool(disposition.get("attached_pic")),
        channel_layout=str(raw.get("channel_layout", "")) if kind == "audio" else "",
        is_commentary=bool(disposition.get("comment") or disposition.get("visual_impaired")),
    )


def parse_ffprobe(report: bytes, size_bytes: int) -> MediaInfo:
    """MediaInfo from `ffprobe -show_format -show_streams -of json` output."""
    try:
        value = json.loads(report)
    except (ValueError, UnicodeDecodeError):
        raise MediaInputError("ffprobe gave no readable report") from None
    fmt = value.get("format") if isinstance(value, dict) else None
    if not isinstance(fmt, dict):
        raise MediaInputError("not a media file ffprobe can read")
    raw_streams = value.get("streams", [])
    streams = tuple(_stream(s) for s in raw_streams if isinstance(s, dict))
    container = str(fmt.get("format_name", ""))
    if set(container.split(",")) & REFERENCING_FORMATS:
        raise MediaInputError(f"{container} inputs refer to other files or URLs: refused")
    duration = _ms(fmt.get("duration")) or max((s.duration_ms for s in streams), default=0)
    return MediaInfo(
        container=container,
        duration_ms=duration,
        size_bytes=size_bytes,
        bit_rate=_int(fmt.get("bit_rate")),
        streams=streams,
    )


def check_episode(info: MediaInfo, limits: Limits = DEFAULT_LIMITS) -> None:
    """MediaInputError unless info has a real video stream, an audio stream and a sane length."""
    video = [s for s in info.of_kind("video") if not s.attached_pic]
    if not video:
        raise MediaInputError(f"no video stream ({info.container or 'unknown container'})")
    audio = info.of_kind("audio")
    if not audio:
        raise MediaInputError("no audio stream")
    if not any(s.channels > 0 and s.sample_rate_hz > 0 for s in audio):
        raise MediaInputError("no audio stream with a known sample rate and channel count")
    if info.duration_ms < limits.min_duration_ms:
        raise MediaInputError(
            f"duration {info.duration_ms} ms is shorter than {limits.min_duration_ms} ms"
        )
    if info.duration_ms > limits.max_duration_ms:
        raise MediaInputError(
            f"duration {info.duration_ms} ms is longer than {limits.max_duration_ms} ms, the "
            "longest episode this media stage takes (DUBSET_MEDIA_MAX_DURATION_S)"
        )


def check_pair(ja: MediaInfo, en: MediaInfo, max_duration_diff_ms: int) -> None:
    """Two releases of one episode run about as long as each other."""
    diff = abs(ja.duration_ms - en.duration_ms)
    if diff > max_duration_diff_ms:
        raise MediaInputError(
            f"not the same episode: durations {ja.duration_ms} ms (JA) and {en.duration_ms} ms "
            f"(EN) differ by {diff} ms, more than {max_duration_diff_ms} ms"
        )
