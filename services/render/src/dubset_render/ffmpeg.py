"""ffprobe and ffmpeg for render, kept to local files: probe the episode, decode its Japanese
track, resample a stem, mux the dubbed file (video and Japanese audio stream-copied)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dubset_common import ffmpeg
from dubset_common.ffmpeg import PROTOCOLS, Tools, file_url
from dubset_common.tools import ToolResult
from dubset_render.core.model import RenderInputError

DEMUXERS = "mov,matroska,webm,avi,mpegts,flv,asf,ogg,mpeg,wav,srt"
RATE = 48000
TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Episode:
    duration_ms: int
    video: int  # the first video stream's index
    audio: tuple[tuple[int, int], ...]  # (index, channels) of each audio stream


def _run(argv: list[str], what: str, path: Path) -> ToolResult:
    result = ffmpeg.run_tool(argv, TIMEOUT_S, 4 * 1024 * 1024, RenderInputError)
    if result.returncode != 0:
        reason = result.reason().replace(file_url(path), path.name)
        raise RenderInputError(f"{what}: {reason}")
    return result


def _in(path: Path, shown: str) -> list[str]:
    url = ffmpeg.input_url(path, RenderInputError, shown)
    return ffmpeg.input_args(url, DEMUXERS)


def probe(path: Path, tools: Tools) -> Episode:
    url = ffmpeg.input_url(path, RenderInputError, "the episode video")
    argv = [tools.ffprobe, "-v", "error", "-protocol_whitelist", PROTOCOLS, "-format_whitelist",
            DEMUXERS, "-show_format", "-show_streams", "-of", "json", url]  # fmt: skip
    result = _run(argv, "the episode video cannot be read", path)
    try:
        doc = json.loads(result.stdout)
        duration_ms = int(float(doc["format"]["duration"]) * 1000)
        streams = doc.get("streams", [])
    except (ValueError, KeyError, TypeError) as exc:
        raise RenderInputError(f"the episode video has no usable duration ({exc})") from None
    video = [int(s["index"]) for s in streams if s.get("codec_type") == "video"]
    audio = tuple(
        (int(s["index"]), int(s.get("channels", 0) or 0))
        for s in streams
        if s.get("codec_type") == "audio"
    )
    if not video:
        raise RenderInputError("the episode has no video stream")
    if not audio:
        raise RenderInputError("the episode has no audio stream")
    return Episode(duration_ms, video[0], audio)


def decode(path: Path, stream: int, channels: int, out: Path, tools: Tools) -> None:
    """One audio stream as a 48 kHz 16-bit WAV of `channels` (1 or 2; surround folded down)."""
    argv = [tools.ffmpeg, "-nostdin", "-v", "error", *_in(path, "the episode video"),
            "-map", f"0:{stream}", "-ac", str(channels), "-ar", str(RATE), "-c:a", "pcm_s16le",
            "-f", "wav", "-y", file_url(out)]  # fmt: skip
    _run(argv, f"cannot decode audio stream #{stream}", path)


def resample(path: Path, out: Path, tools: Tools) -> None:
    """A mono stem at 48 kHz (float WAV: no second quantisation)."""
    argv = [tools.ffmpeg, "-nostdin", "-v", "error", *_in(path, path.name), "-ac", "1",
            "-ar", str(RATE), "-c:a", "pcm_f32le", "-f", "wav", "-y", file_url(out)]  # fmt: skip
    _run(argv, f"cannot read {path.name}", path)


def mux(
    video: Path,
    episode: Episode,
    ja_stream: int,
    mix: Path,
    srt: Path,
    out: Path,
    container: str,
    bitrate_kbps: int,
    title: str,
    tools: Tools,
) -> None:
    """The video and the Japanese track copied as they are, the English mix encoded (AAC) and
    tagged eng with its title, and the spoken English subtitles."""
    sub_codec = "mov_text" if container == "mp4" else "srt"
    fmt = "mp4" if container == "mp4" else "matroska"
    argv = [tools.ffmpeg, "-nostdin", "-v", "error", *_in(video, "the episode video"),
            *_in(mix, "the English mix"), *_in(srt, "the spoken subtitles"),
            "-map", f"0:{episode.video}", "-map", f"0:{ja_stream}", "-map", "1:a:0",
            "-map", "2:s:0", "-c:v", "copy", "-c:a:0", "copy", "-c:a:1", "aac",
            "-b:a:1", f"{bitrate_kbps}k", "-c:s", sub_codec,
            "-metadata:s:a:0", "language=jpn", "-metadata:s:a:1", "language=eng",
            "-metadata:s:a:1", f"title={title}", "-metadata:s:a:1", f"handler_name={title}",
            "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", f"handler_name={title}",
            "-metadata:s:s:0", f"title={title}", "-disposition:a:0", "default",
            "-disposition:a:1", "0", "-map_metadata", "0", "-map_chapters", "0",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-f", fmt, "-y", file_url(out)]  # fmt: skip
    _run(argv, "cannot write the dubbed video", video)
