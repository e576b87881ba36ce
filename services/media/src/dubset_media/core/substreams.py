"""Subtitle streams inside a release: which one a job asked for, and why one cannot be used."""

from __future__ import annotations

from dubset_common.subtitles import refuse_reason
from dubset_media.core.model import MediaInfo, MediaInputError, StreamInfo

ASS_CODECS = frozenset({"ass", "ssa"})


def describe(s: StreamInfo) -> str:
    parts = [f"#{s.index}", s.language or "untagged", s.codec or "?"]
    return " ".join([*parts, f'"{s.title}"']) if s.title else " ".join(parts)


def subtitle_stream(info: MediaInfo, index: int, language: str) -> StreamInfo:
    """The text subtitle stream at index; MediaInputError naming the file's subtitle streams
    (and why an image one cannot be read) otherwise."""
    subs = info.of_kind("subtitle")
    listing = "; ".join(describe(s) for s in subs) or "none"
    where = f"--{language}-subs-track {index}"
    stream = next((s for s in info.streams if s.index == index), None)
    if stream is None or stream.kind != "subtitle":
        what = "no stream" if stream is None else f"{stream.kind}, not subtitles"
        raise MediaInputError(f"{where}: #{index} is {what}. Subtitle streams: {listing}")
    reason = refuse_reason(stream.codec)
    if reason is not None:
        raise MediaInputError(f"{where}: {reason}. Subtitle streams: {listing}")
    return stream
