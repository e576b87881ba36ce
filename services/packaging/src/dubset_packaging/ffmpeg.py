"""ffprobe and ffmpeg as locked-down subprocesses: local files only, bounded output, timeouts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dubset_common import ffmpeg
from dubset_common.ffmpeg import PROTOCOLS, Tools
from dubset_common.tools import ToolResult
from dubset_packaging.core.model import PackagingInputError

DEMUXERS = "mov,matroska,webm,avi,mpegts,flv,asf,ogg,mpeg,wav,mp3"
MAX_STDOUT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Stream:
    index: int
    kind: str
    codec: str
    channels: int = 0
    height: int = 0


@dataclass(frozen=True)
class SourceInfo:
    """What packaging needs to know of a source video."""

    duration_ms: int
    streams: tuple[Stream, ...]

    def stream(self, index: int) -> Stream | None:
        return next((s for s in self.streams if s.index == index), None)

    def first(self, kind: str) -> Stream | None:
        return next((s for s in self.streams if s.kind == kind), None)


def run_tool(argv: list[str], timeout_s: float, max_stdout: int = MAX_STDOUT) -> ToolResult:
    """The shared bounded runner; too much output is a PackagingInputError."""
    return ffmpeg.run_tool(argv, timeout_s, max_stdout, PackagingInputError)


def input_url(path: Path) -> str:
    """The absolute file: URL of a non-empty regular file; anything else is refused."""
    return ffmpeg.input_url(path, PackagingInputError, path.name, "not a non-empty regular file")


def input_args(path: Path) -> list[str]:
    return ffmpeg.input_args(input_url(path), DEMUXERS)


def probe(path: Path, tools: Tools, what: str, timeout_s: float = 60.0) -> SourceInfo:
    """ffprobe's view of a video: duration and streams; PackagingInputError when unreadable."""
    url = input_url(path)
    argv = [tools.ffprobe, "-v", "error", "-protocol_whitelist", PROTOCOLS]
    argv += ["-format_whitelist", DEMUXERS, "-show_format", "-show_streams", "-of", "json", url]
    result = run_tool(argv, timeout_s, 4 * 1024 * 1024)
    if result.returncode != 0:
        reason = result.reason().replace(url, path.name)
        raise PackagingInputError(f"{what}: ffprobe cannot read it: {reason}")
    try:
        doc = json.loads(result.stdout)
        duration_ms = int(float(doc["format"]["duration"]) * 1000)
        streams = tuple(
            Stream(
                int(s["index"]),
                str(s.get("codec_type", "")),
                str(s.get("codec_name", "")),
                int(s.get("channels", 0) or 0),
                int(s.get("height", 0) or 0),
            )
            for s in doc.get("streams", [])
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PackagingInputError(f"{what}: ffprobe reports no usable duration ({exc})") from None
    return SourceInfo(duration_ms, streams)
