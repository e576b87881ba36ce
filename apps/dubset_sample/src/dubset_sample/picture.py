"""The episode's picture: a shot plan from the line timings, rendered by one ffmpeg call."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import IO

import soundfile as sf

from dubset_sample.art import ArtLibrary, Look
from dubset_sample.ffgraph import FilterGraph, Still, build_graph
from dubset_sample.frames import FPS, frame_at, frame_count, shot_frames
from dubset_sample.shots import (
    MAX_SHOT_MS,
    MIN_SHOT_MS,
    MOTIONS,
    TITLE,
    Shot,
    Speech,
    plan_shots,
    shift_shots,
    title_shots,
)

__all__ = [
    "FPS",
    "MAX_SHOT_MS",
    "MIN_SHOT_MS",
    "MOTIONS",
    "TITLE",
    "FilterGraph",
    "RenderError",
    "Shot",
    "Speech",
    "Still",
    "build_graph",
    "ffmpeg_argv",
    "frame_at",
    "frame_count",
    "plan_shots",
    "render_video",
    "shift_shots",
    "shot_frames",
    "title_shots",
]


class RenderError(RuntimeError):
    """ffmpeg failed; the message carries its error output."""


def render_video(
    shots: Sequence[Shot],
    looks: Mapping[str, Look],
    audio_wav: Path,
    out: Path,
    art: ArtLibrary,
    *,
    size: tuple[int, int] = (640, 360),
    hook: Callable[[float], None] | None = None,
    preset: str = "veryfast",
) -> None:
    """Render shots over audio_wav to an H.264/AAC mp4 at 24000/1001 fps, byte-reproducibly."""
    info = sf.info(str(audio_wav))
    total = frame_count(Fraction(info.frames, info.samplerate))
    timed = shot_frames(shots, total)
    graph = build_graph(timed, looks, art, size)
    out = Path(out)
    partial = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="dubset-picture-") as tmp:
        script = Path(tmp) / "graph.txt"
        script.write_text(graph.script(), encoding="utf-8")
        argv = ffmpeg_argv(graph, timed, script, Path(audio_wav), partial, preset)
        try:
            _run(argv, total / float(FPS), hook, Path(tmp) / "stderr.txt")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out)
    if hook is not None:
        hook(1.0)


def ffmpeg_argv(
    graph: FilterGraph,
    timed: Sequence[tuple[Shot, int]],
    script: Path,
    audio_wav: Path,
    out: Path,
    preset: str,
) -> list[str]:
    """The ffmpeg command line: stills, the audio, the graph script, the encoders."""
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for image in graph.images:
        argv += ["-f", "image2", "-pattern_type", "none", "-i", _url(image.path)]
    argv += ["-i", _url(audio_wav), "-filter_complex_script", _url(script)]
    argv += ["-map", "[vout]", "-map", f"{len(graph.images)}:a:0"]
    argv += ["-c:v", "libx264", "-preset", preset, "-crf", "26", "-pix_fmt", "yuv420p"]
    argv += ["-threads", "2", "-g", str(round(2 * FPS)), "-r", f"{FPS.numerator}/{FPS.denominator}"]
    argv += ["-force_key_frames", _cut_times(timed)]
    argv += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
    argv += ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart"]
    argv += ["-progress", "pipe:1", "-nostats", "-f", "mp4", _url(out)]
    return argv


def _url(path: Path) -> str:
    """An ffmpeg URL for a local path that no name can turn into an option or protocol."""
    return "file:" + str(Path(path).resolve())


def _cut_times(timed: Sequence[tuple[Shot, int]]) -> str:
    """Seconds of each cut's first frame, for -force_key_frames."""
    times, frame = [], 0
    for _, frames in timed:
        times.append(f"{float(frame / FPS):.6f}")
        frame += frames
    return ",".join(times)


def _run(
    argv: Sequence[str], seconds: float, hook: Callable[[float], None] | None, log: Path
) -> None:
    """Run ffmpeg, feeding hook its progress; RenderError with its stderr on failure."""
    with log.open("w+b") as err, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err) as proc:
        try:
            assert proc.stdout is not None
            _follow_progress(proc.stdout, seconds, hook)
            code = proc.wait()
        except BaseException:
            proc.kill()
            raise
        if code != 0:
            err.seek(0)
            tail = err.read()[-4000:].decode("utf-8", "replace").strip()
            raise RenderError(f"ffmpeg exited with {code}: {tail}")


def _follow_progress(
    stream: IO[bytes], seconds: float, hook: Callable[[float], None] | None
) -> None:
    for raw in stream:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if hook is not None and key == "out_time_us" and value.isdigit() and seconds > 0:
            hook(min(1.0, int(value) / 1e6 / seconds))
