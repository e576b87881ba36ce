"""Face clips written: each clip's span decoded once at the video's size, cropped to the
square windows and scaled to crop_size (and, when asked, the full frame too), each encoded to
H.264 byte-reproducibly (one encoder thread, bitexact, no x264 SEI, no metadata)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dubset_common.ffmpeg import Tools, file_url
from dubset_faces import video
from dubset_faces.core.doc import clip_id
from dubset_faces.core.model import FaceClip, FacesInputError, Frame

CRF = 20
PRESET = "veryfast"
WORKERS = 2  # clips encoded at once
SHEET_THUMB = 128
SHEET_COLUMNS = 8
SHEET_MAX = 64


@dataclass(frozen=True)
class Written:
    clip: str
    kind: str  # "crop" or "full"
    path: Path


def write_clips(
    path: Path,
    info: video.VideoInfo,
    clips: Sequence[FaceClip],
    out: Path,
    tools: Tools,
    crop_size: int,
    full_frame: bool,
    hook: Callable[[float], None],
    workers: int = WORKERS,
) -> tuple[list[Written], list[Frame]]:
    """The clips' files under out (anivid_clips/<id>.mp4, <id>_full.mp4), and each clip's
    middle crop (for the contact sheet). `workers` clips at once (each its own decoder and
    encoders, every encoder on one thread): the same bytes as one at a time."""
    folder = out / "anivid_clips"
    folder.mkdir(parents=True, exist_ok=True)

    def one(clip: FaceClip) -> tuple[list[Written], Frame | None]:
        return _write_clip(path, info, clip, folder, tools, crop_size, full_frame)

    written: list[Written] = []
    middles: list[Frame] = []
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="faces-encode") as pool:
        futures = [pool.submit(one, clip) for clip in clips]
        try:
            for n, future in enumerate(futures):  # in the clips' order
                files, middle = future.result()
                written += files
                middles += [] if middle is None else [middle]
                hook((n + 1) / len(clips))
        finally:
            for future in futures:
                future.cancel()
    return written, middles


def _write_clip(
    path: Path,
    info: video.VideoInfo,
    clip: FaceClip,
    folder: Path,
    tools: Tools,
    crop_size: int,
    full_frame: bool,
) -> tuple[list[Written], Frame | None]:
    """One clip's span decoded once, its crop (and full frame) encoded; its middle crop."""
    size = (info.width - info.width % 2, info.height - info.height % 2)
    cid = clip_id(clip)
    crop_path = folder / f"{cid}.mp4"
    full_path = folder / f"{cid}_full.mp4"
    encoders = [_Encoder(tools, (crop_size, crop_size), info, crop_path)]
    if full_frame:
        encoders.append(_Encoder(tools, size, info, full_path))
    middle_at = (clip.end - clip.start) // 2
    middle: Frame | None = None
    try:
        frames = video.frames(
            path, info, (info.width, info.height), tools, start=clip.start,
            count=clip.end - clip.start,
        )  # fmt: skip
        for i, frame in enumerate(frames):
            if i >= len(clip.crops):
                break
            face = _crop(frame, clip.crops[i], crop_size)
            encoders[0].write(face)
            if full_frame:
                encoders[1].write(frame[: size[1], : size[0]])
            if i == middle_at:
                middle = face
    finally:
        for enc in encoders:
            enc.close()
    written = [Written(cid, "crop", crop_path)]
    if full_frame:
        written.append(Written(cid, "full", full_path))
    return written, middle


def _crop(frame: Frame, window: tuple[float, float, float], size: int) -> Frame:
    x, y, side = window
    left, top, s = round(x), round(y), max(1, round(side))
    patch = frame[top : top + s, left : left + s]
    return np.ascontiguousarray(cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA))


class _Encoder:
    def __init__(
        self, tools: Tools, size: tuple[int, int], info: video.VideoInfo, out: Path
    ) -> None:
        w, h = size
        rate = f"{info.fps.numerator}/{info.fps.denominator}"
        argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", rate,
                "-i", "pipe:0", "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
                "-threads", "1", "-pix_fmt", "yuv420p",
                "-bsf:v", "filter_units=remove_types=6", "-flags:v", "+bitexact",
                "-fflags", "+bitexact", "-map_metadata", "-1", "-movflags", "+faststart",
                "-f", "mp4", file_url(out)]  # fmt: skip
        self._err = out.with_suffix(".log")
        self._errf = self._err.open("wb")
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=self._errf)
        self._out = out

    def write(self, frame: Frame) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(frame.tobytes())

    def close(self) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        code = self._proc.wait()
        self._errf.close()
        reason = self._err.read_text("utf-8", "replace").strip()[-300:]
        self._err.unlink(missing_ok=True)
        if code != 0:
            raise FacesInputError(f"encoding {self._out.name} failed: {reason or code}")


def contact_sheet(middles: Sequence[Frame], out: Path) -> Path:
    """A PNG grid of the clips' middle crops (the first SHEET_MAX), SHEET_COLUMNS a row."""
    from PIL import Image

    shown = list(middles[:SHEET_MAX])
    rows = max(1, -(-len(shown) // SHEET_COLUMNS))
    cols = min(SHEET_COLUMNS, max(1, len(shown)))
    sheet = Image.new("RGB", (cols * SHEET_THUMB, rows * SHEET_THUMB), (24, 24, 24))
    for i, face in enumerate(shown):
        thumb = Image.fromarray(face).resize((SHEET_THUMB, SHEET_THUMB), Image.Resampling.LANCZOS)
        sheet.paste(thumb, ((i % cols) * SHEET_THUMB, (i // cols) * SHEET_THUMB))
    sheet.save(out, format="PNG", optimize=False)
    return out


def mux_av(
    face: Path, ja_audio: Path, ja_offset_ms: int, ms: int, en_audio: Path, out: Path,
    tools: Tools,
) -> None:  # fmt: skip
    """The speaking face clip with the JA clip's audio over the same frames (from ja_offset_ms
    into it) and the EN clip's audio as a second track (jpn, eng), byte-reproducibly."""
    argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-i", file_url(face), "-ss", f"{ja_offset_ms / 1000:.3f}", "-t", f"{ms / 1000:.3f}",
            "-i", file_url(ja_audio), "-i", file_url(en_audio),
            "-map", "0:v:0", "-map", "1:a:0", "-map", "2:a:0", "-c:v", "copy",
            "-c:a", "aac", "-b:a", "96k", "-ac", "1", "-threads", "1",
            "-metadata:s:a:0", "language=jpn", "-metadata:s:a:1", "language=eng",
            "-flags:a", "+bitexact", "-fflags", "+bitexact", "-map_metadata", "-1",
            "-movflags", "+faststart", "-f", "mp4", file_url(out)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip()[-300:]
        raise FacesInputError(f"muxing {out.name} failed: {reason}")
