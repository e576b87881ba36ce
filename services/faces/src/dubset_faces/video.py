"""The video as frames: ffprobe for its shape and rate, one ffmpeg decoding it at a constant
rate (variable-rate video is resampled to its average rate) and a bounded analysis size."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from dubset_common import ffmpeg
from dubset_common.ffmpeg import PROTOCOLS, Tools, file_url
from dubset_faces.core.model import FacesInputError, Frame

DEMUXERS = "mov,matroska,webm,avi,mpegts,flv,asf,ogg,mpeg,h264,hevc,m4v,image2"
PROBE_TIMEOUT_S = 120.0
MAX_SIDE = 16384
MAX_ASPECT = 8.0


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction  # the constant rate frames are analysed at
    duration_ms: int
    stream: int

    @property
    def frames(self) -> int:
        """Frames on the analysis clock (what the decoder delivers, give or take one)."""
        return int(self.duration_ms * self.fps / 1000)


def probe(path: Path, tools: Tools) -> VideoInfo:
    """The first video stream's size, rate and duration; FacesInputError for anything that is
    not a decodable video of sane shape."""
    url = ffmpeg.input_url(path, FacesInputError, "the video")
    argv = [tools.ffprobe, "-v", "error", "-protocol_whitelist", PROTOCOLS, "-format_whitelist",
            DEMUXERS, "-show_format", "-show_streams", "-of", "json", url]  # fmt: skip
    result = ffmpeg.run_tool(argv, PROBE_TIMEOUT_S, 4 * 1024 * 1024, FacesInputError)
    if result.returncode != 0:
        reason = result.reason().replace(file_url(path), path.name)
        raise FacesInputError(f"the video cannot be read: {reason}")
    try:
        doc = json.loads(result.stdout)
        streams = doc.get("streams", [])
        fmt_duration = float(doc.get("format", {}).get("duration", 0) or 0)
    except (ValueError, TypeError, AttributeError) as exc:
        raise FacesInputError(f"the video cannot be read ({exc})") from None
    video = [s for s in streams if s.get("codec_type") == "video"]
    video = [s for s in video if not (s.get("disposition") or {}).get("attached_pic")]
    if not video:
        raise FacesInputError("the file has no video stream")
    s = video[0]
    width, height = int(s.get("width", 0) or 0), int(s.get("height", 0) or 0)
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise FacesInputError(f"the video is {width}x{height}: need 16..{MAX_SIDE} px a side")
    if max(width / height, height / width) > MAX_ASPECT:
        raise FacesInputError(f"the video is {width}x{height}: aspect over {MAX_ASPECT:g}:1")
    fps = _rate(s.get("avg_frame_rate")) or _rate(s.get("r_frame_rate"))
    if fps is None or not 1 <= fps <= 240:
        raise FacesInputError(f"the video's frame rate {s.get('avg_frame_rate')!r} is unusable")
    duration = float(s.get("duration", 0) or 0) or fmt_duration
    if not duration > 0:
        raise FacesInputError("the video has no duration")
    return VideoInfo(width, height, fps, int(duration * 1000), int(s.get("index", 0)))


def _rate(text: object) -> Fraction | None:
    try:
        rate = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return rate.limit_denominator(1001) if rate > 0 else None


def analysis_size(info: VideoInfo, max_width: int) -> tuple[int, int]:
    """The frame size analysed: the video's, scaled down to max_width, even sides."""
    if info.width <= max_width:
        w, h = info.width, info.height
    else:
        w, h = max_width, round(info.height * max_width / info.width)
    return max(2, w - w % 2), max(2, h - h % 2)


def frames(
    path: Path,
    info: VideoInfo,
    size: tuple[int, int],
    tools: Tools,
    *,
    start: int = 0,
    count: int | None = None,
) -> Iterator[Frame]:
    """RGB frames at size on the info.fps clock, from frame `start` (count of them, else to the
    end). A decode failure part way raises FacesInputError naming the frame it stopped at."""
    w, h = size
    url = ffmpeg.input_url(path, FacesInputError, "the video")
    seek = [] if start == 0 else ["-ss", f"{float(start / info.fps):.6f}"]
    argv = [tools.ffmpeg, "-nostdin", "-v", "error", "-xerror", "-threads", "2",
            "-protocol_whitelist", PROTOCOLS, "-format_whitelist", DEMUXERS, *seek, "-i", url,
            "-map", f"0:{info.stream}", "-an", "-sn", "-dn",
            "-vf", f"fps={info.fps.numerator}/{info.fps.denominator},scale={w}:{h}:flags=area",
            "-pix_fmt", "rgb24", "-f", "rawvideo"]  # fmt: skip
    if count is not None:
        argv += ["-frames:v", str(count)]
    argv.append("pipe:1")
    yield from _read(argv, w * h * 3, (h, w, 3), path, start)


def _read(argv: list[str], frame_bytes: int, shape: tuple[int, int, int], path: Path,
          start: int) -> Iterator[Frame]:  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = bytearray()
    drain = threading.Thread(target=_drain, args=(proc, err), daemon=True)
    drain.start()
    n = 0
    try:
        assert proc.stdout is not None
        while True:
            data = proc.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            yield np.frombuffer(data, np.uint8).reshape(shape)
            n += 1
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join()
    if code != 0:
        reason = err.decode("utf-8", "replace").strip().replace(file_url(path), path.name)
        raise FacesInputError(
            f"decoding the video failed at frame {start + n}: {reason[-300:] or f'exit {code}'}"
        )
    if n == 0:
        raise FacesInputError("the video decoded to no frames")


def _drain(proc: subprocess.Popen[bytes], out: bytearray) -> None:
    assert proc.stderr is not None
    for chunk in iter(lambda: proc.stderr.read(4096), b""):  # type: ignore[union-attr]
        if len(out) < 64 * 1024:
            out += chunk
