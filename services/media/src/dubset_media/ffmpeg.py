"""ffprobe and ffmpeg as locked-down subprocesses: local files only, known demuxers, timeouts.

Inputs are opened as absolute `file:` URLs with `-protocol_whitelist file`, so nothing can
reach the network, and with a demuxer whitelist of plain containers, so playlists (HLS, DASH),
concat lists and image sequences, which would open other files named inside them, are refused
before they read anything.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from dubset_common import ffmpeg
from dubset_common.ffmpeg import PROTOCOLS, file_url
from dubset_common.tools import ToolError, ToolResult
from dubset_media.core.model import MediaInfo, MediaInputError
from dubset_media.core.probe import parse_ffprobe

DEMUXERS = "mov,matroska,webm,avi,mpegts,flv,asf,ogg,mpeg,wav"
MAX_PROBE_BYTES = 4 * 1024 * 1024
CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Tools:
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    probe_timeout_s: float = 60.0
    # Extraction gets a base plus a share of the media's duration.
    extract_timeout_s: float = 120.0
    extract_timeout_per_media_s: float = 0.5

    def resolve(self) -> Tools:
        found = {}
        for name in ("ffmpeg", "ffprobe"):
            exe = shutil.which(getattr(self, name))
            if exe is None:
                raise ToolError(f"{getattr(self, name)} not found on PATH (install ffmpeg)")
            found[name] = exe
        return Tools(
            found["ffmpeg"],
            found["ffprobe"],
            self.probe_timeout_s,
            self.extract_timeout_s,
            self.extract_timeout_per_media_s,
        )


def run_tool(argv: list[str], timeout_s: float, max_stdout: int = MAX_PROBE_BYTES) -> ToolResult:
    """The shared bounded runner; too much output is a MediaInputError."""
    return ffmpeg.run_tool(argv, timeout_s, max_stdout, MediaInputError)


def input_url(path: Path) -> str:
    """The absolute file: URL of a regular file; anything else (FIFO, device, dir) is refused."""
    return ffmpeg.input_url(path, MediaInputError, str(path))


def _input_args(path: Path) -> list[str]:
    return ffmpeg.input_args(input_url(path), DEMUXERS)


def probe(path: Path, tools: Tools) -> MediaInfo:
    """ffprobe's view of a local file; MediaInputError when it is not media we accept."""
    url = input_url(path)
    argv = [tools.ffprobe, "-v", "error", "-hide_banner", "-protocol_whitelist", PROTOCOLS]
    argv += ["-format_whitelist", DEMUXERS, "-show_format", "-show_streams", "-of", "json", url]
    result = run_tool(argv, tools.probe_timeout_s)
    if result.returncode != 0:
        reason = result.reason().replace(url, path.name)
        if "not on whitelist" in result.stderr:
            reason = "not a plain media container (playlists, lists and sequences are refused)"
        raise MediaInputError(f"{path.name}: not a readable media file: {reason}")
    return parse_ffprobe(result.stdout, path.stat().st_size)


def _decoded(progress: bytes) -> tuple[int, int]:
    """(frames, output microseconds) from ffmpeg's -progress report."""
    frames = out_us = 0
    for line in progress.decode("ascii", "replace").splitlines():
        key, _, value = line.partition("=")
        if key == "frame" and value.strip().isdigit():
            frames = int(value)
        elif key == "out_time_us" and value.strip().lstrip("-").isdigit():
            out_us = int(value)
    return frames, out_us


def check_video_decodes(path: Path, info: MediaInfo, tools: Tools) -> None:
    """Decode a few seconds of the first video stream at the start and near the end."""
    starts = [0.0]
    if info.duration_ms / 1000 > 2 * CHECK_SECONDS:
        starts.append(info.duration_ms / 1000 - CHECK_SECONDS)
    for start in starts:
        argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-nostats"]
        argv += ["-ss", f"{start:.3f}", "-t", f"{CHECK_SECONDS:.3f}", *_input_args(path)]
        argv += ["-map", "0:V:0", "-progress", "pipe:1", "-f", "null", "-"]
        result = run_tool(argv, tools.probe_timeout_s)
        frames, _ = _decoded(result.stdout)
        where = "start" if start == 0 else f"{start:.1f} s"
        if result.returncode != 0:
            raise MediaInputError(
                f"{path.name}: video does not decode at {where}: {result.reason()}"
            )
        if frames == 0:
            raise MediaInputError(
                f"{path.name}: no video frame decodes at {where} (truncated or corrupt file)"
            )


def extract_audio(
    path: Path,
    out: Path,
    stream_index: int,
    sample_rate_hz: int,
    channels: int,
    duration_ms: int,
    tools: Tools,
    pan: str | None = None,
) -> None:
    """One audio stream as PCM s16le WAV, resampled and downmixed (by `pan`, an ffmpeg pan
    filter, when given; else by ffmpeg's own matrix), streamed to disk."""
    argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-nostats"]
    argv += [*_input_args(path), "-map", f"0:{stream_index}", "-vn", "-sn", "-dn"]
    if pan:
        argv += ["-af", pan]
    argv += ["-ac", str(channels), "-ar", str(sample_rate_hz), "-c:a", "pcm_s16le"]
    argv += ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]
    argv += ["-f", "wav", "-y", file_url(out)]
    timeout = tools.extract_timeout_s + tools.extract_timeout_per_media_s * duration_ms / 1000
    result = run_tool(argv, timeout)
    if result.returncode != 0:
        raise MediaInputError(
            f"{path.name}: audio stream {stream_index} does not decode: {result.reason()}"
        )


def extract_subtitles(path: Path, out: Path, stream_index: int, ass: bool, tools: Tools) -> None:
    """One text subtitle stream as a subtitle file at out: ASS when the stream is ASS/SSA (its
    Actor names kept), else SRT."""
    argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-nostats"]
    argv += [*_input_args(path), "-map", f"0:{stream_index}", "-vn", "-an", "-dn"]
    argv += ["-c:s", "ass" if ass else "srt", "-fflags", "+bitexact", "-map_metadata", "-1"]
    argv += ["-f", "ass" if ass else "srt", "-y", file_url(out)]
    result = run_tool(argv, tools.extract_timeout_s)
    if result.returncode != 0:
        raise MediaInputError(
            f"{path.name}: subtitle stream {stream_index} does not decode: {result.reason()}"
        )
