"""Cut one language's clips from its original video with ffmpeg, a bounded batch at a time.

Each batch is one ffmpeg process: seek to the batch start, split the chosen audio stream (and
the video) once per clip, trim each copy to its clip and encode it. Every stretch of the episode
is decoded about once, and at most MAX_*_BATCH encoders run at a time. Outputs are
byte-identical across runs: fixed encoder threads, bitexact flags, no metadata, no x264 SEI.
Each batch's outputs are then decoded once more (one ffmpeg reading them all) to check them
and measure the duration that actually plays. PARALLEL_BATCHES batches run at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from dubset_common.ffmpeg import Tools, file_url
from dubset_packaging.core.batches import MAX_AUDIO_BATCH, MAX_VIDEO_BATCH, Batch, plan_batches
from dubset_packaging.core.model import PackagingInputError, Span
from dubset_packaging.ffmpeg import input_args, run_tool

Hook = Callable[[float, str], None]
# The cutting recipe's version: bump it whenever batch_argv changes the bytes a clip gets.
CUTTER_VERSION = "1"
# An ffmpeg run may take BASE_TIMEOUT_S plus this many seconds per second of media it cuts
# (twice that with video): generous, so only a wedged or starved process hits it.
BASE_TIMEOUT_S = 120.0
TIMEOUT_S_PER_MEDIA_S = 8.0
# Batches cut at once. One ffmpeg 5 process encodes its outputs one after another on one core
# (x264 on one thread, for reproducible bytes): two keep both of a 2-core machine busy.
PARALLEL_BATCHES = 2


@dataclass(frozen=True)
class Encoding:
    """How clips are encoded (defaults: near the Anim-400K release's ~100 kbps mp3)."""

    audio_bitrate_kbps: int = 96
    mp3_rate_hz: int = 44_100
    max_channels: int = 2
    max_height: int = 480
    x264_preset: str = "veryfast"
    x264_crf: int = 23
    aac_bitrate_kbps: int = 128

    def settings(self, video: bool, encoder: str) -> dict[str, str | int | bool]:
        """Everything that decides a clip's bytes (what the clip ids' encoding digest hashes):
        these fields, whether video is cut, the cutter recipe and the encoder's version."""
        return {**asdict(self), "video": video, "cutter": CUTTER_VERSION, "encoder": encoder}


@dataclass(frozen=True)
class CutRequest:
    """One clip to cut: its span in the source's timeline and where its files go."""

    span: Span
    audio: Path
    video: Path | None = None


@dataclass(frozen=True)
class CutFile:
    """A file written and checked by decoding it."""

    path: Path
    duration_ms: int
    codec: str
    kind: str


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


_BITEXACT = ["-fflags", "+bitexact", "-map_metadata", "-1", "-map_chapters", "-1"]


def batch_argv(
    tools: Tools,
    source: Path,
    stream_index: int,
    channels: int,
    batch: Batch,
    requests: Sequence[CutRequest],
    enc: Encoding,
) -> list[str]:
    """The ffmpeg command that cuts one batch (pure: easy to inspect and test)."""
    items = [requests[i] for i in batch.items]
    video = [r for r in items if r.video is not None]
    ac = str(max(1, min(enc.max_channels, channels)))
    n_audio = len(items) + len(video)
    graph = [f"[0:{stream_index}]asplit={n_audio}" + "".join(f"[a{k}]" for k in range(n_audio))]
    if video:
        graph.append(f"[0:v:0]split={len(video)}" + "".join(f"[v{k}]" for k in range(len(video))))
    outs: list[str] = []
    for k, req in enumerate(items):
        start = _seconds(req.span.start_ms - batch.start_ms)
        end = _seconds(req.span.end_ms - batch.start_ms)
        graph.append(f"[a{k}]atrim=start={start}:end={end},asetpts=PTS-STARTPTS[oa{k}]")
        outs += ["-map", f"[oa{k}]", "-c:a", "libmp3lame", "-b:a", f"{enc.audio_bitrate_kbps}k"]
        outs += ["-ar", str(enc.mp3_rate_hz), "-ac", ac, "-threads", "1", "-flags:a", "+bitexact"]
        outs += [*_BITEXACT, "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"]
        outs += ["-y", file_url(req.audio)]
    for k, req in enumerate(video):
        assert req.video is not None
        start = _seconds(req.span.start_ms - batch.start_ms)
        end = _seconds(req.span.end_ms - batch.start_ms)
        a = len(items) + k
        graph.append(f"[a{a}]atrim=start={start}:end={end},asetpts=PTS-STARTPTS[ova{k}]")
        graph.append(
            f"[v{k}]trim=start={start}:end={end},setpts=PTS-STARTPTS,"
            f"scale=w=-2:h='min({enc.max_height},ih)',format=yuv420p[ovv{k}]"
        )
        outs += ["-map", f"[ovv{k}]", "-map", f"[ova{k}]", "-c:v", "libx264"]
        outs += ["-preset", enc.x264_preset, "-crf", str(enc.x264_crf), "-threads", "1"]
        # x264 writes its version and options into an SEI; drop SEI NAL units (type 6).
        outs += ["-bsf:v", "filter_units=remove_types=6", "-c:a", "aac"]
        outs += ["-b:a", f"{enc.aac_bitrate_kbps}k", "-ac", ac]
        outs += ["-flags:v", "+bitexact", "-flags:a", "+bitexact", *_BITEXACT]
        outs += ["-movflags", "+faststart", "-f", "mp4", "-y", file_url(req.video)]
    argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-nostats"]
    argv += ["-ss", _seconds(batch.start_ms), *input_args(source)]
    return [*argv, "-filter_complex", ";".join(graph), *outs]


_TB = re.compile(r"^#tb (\d+): (\d+)/(\d+)$")
_TYPE = re.compile(r"^#media_type (\d+): (\w+)$")


def decoded_durations(stdout: bytes) -> list[tuple[str, int]]:
    """(media type, decoded ms) per output stream of an ffmpeg framecrc report."""
    tbs: dict[int, Fraction] = {}
    kinds: dict[int, str] = {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for line in stdout.decode("ascii", "replace").splitlines():
        if line.startswith("#"):
            if m := _TB.match(line):
                tbs[int(m[1])] = Fraction(int(m[2]), int(m[3]))
            elif m := _TYPE.match(line):
                kinds[int(m[1])] = m[2]
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4 or not fields[0].isdigit():
            continue
        k, pts, dur = int(fields[0]), int(fields[2]), int(fields[3])
        first[k] = min(first.get(k, pts), pts)
        last[k] = max(last.get(k, pts + dur), pts + dur)
    return [
        (kinds.get(k, "?"), round((last.get(k, 0) - first.get(k, 0)) * tbs[k] * 1000))
        for k in sorted(tbs)
    ]


def check_outputs(tools: Tools, files: Sequence[tuple[Path, str]], timeout_s: float) -> list[int]:
    """Decode files (each "audio" mp3 or "video" mp4) in one ffmpeg; their playing ms."""
    argv = [tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-threads", "1"]
    maps: list[str] = []
    for i, (path, kind) in enumerate(files):
        argv += input_args(path)
        maps += ["-map", f"{i}:v:0", "-map", f"{i}:a:0"] if kind == "video" else []
        maps += ["-map", f"{i}:a:0"] if kind == "audio" else []
    result = run_tool([*argv, *maps, "-f", "framecrc", "-"], timeout_s)
    if result.returncode != 0:
        raise PackagingInputError(f"a cut clip does not decode: {result.reason()}")
    streams = iter(decoded_durations(result.stdout))
    durations = []
    for path, kind in files:
        got = [next(streams, ("?", 0)) for _ in range(2 if kind == "video" else 1)]
        want = ["video", "audio"] if kind == "video" else ["audio"]
        if [g[0] for g in got] != want or min(g[1] for g in got) <= 0:
            raise PackagingInputError(f"cut clip {path.name} decodes to nothing: {got}")
        durations.append(max(g[1] for g in got))
    return durations


def batch_timeout_s(span_ms: int, video: bool) -> float:
    """The wall-clock limit of one batch's ffmpeg: scales with the media it decodes."""
    return BASE_TIMEOUT_S + TIMEOUT_S_PER_MEDIA_S * (span_ms / 1000) * (2 if video else 1)


def cut_clips(
    tools: Tools,
    source: Path,
    stream_index: int,
    channels: int,
    requests: Sequence[CutRequest],
    enc: Encoding,
    hook: Hook,
    workers: int = PARALLEL_BATCHES,
) -> list[list[CutFile]]:
    """Cut every request from source; per request its mp3 (and mp4) as written and checked.
    Up to `workers` batches run at once (each file's bytes do not depend on it); the first
    failure in batch order is raised, after the batches running with it have ended."""
    with_video = any(r.video is not None for r in requests)
    size = MAX_VIDEO_BATCH if with_video else MAX_AUDIO_BATCH
    batches = plan_batches([r.span for r in requests], size)
    out: list[list[CutFile]] = [[] for _ in requests]

    def cut(batch: Batch) -> list[tuple[int, CutFile]]:
        """One batch cut by one ffmpeg and its outputs checked: (request index, file) each."""
        timeout = batch_timeout_s(batch.end_ms - batch.start_ms, with_video)
        argv = batch_argv(tools, source, stream_index, channels, batch, requests, enc)
        result = run_tool(argv, timeout)
        if result.returncode != 0:
            raise PackagingInputError(
                f"{source.name}: cutting {_seconds(batch.start_ms)}-{_seconds(batch.end_ms)} s "
                f"failed: {result.reason()}"
            )
        files: list[tuple[int, Path, str]] = []
        for i in batch.items:
            files.append((i, requests[i].audio, "audio"))
            video = requests[i].video
            if video is not None:
                files.append((i, video, "video"))
        durations = check_outputs(tools, [(p, k) for _, p, k in files], timeout)
        return [
            (i, CutFile(path, ms, "mp3" if kind == "audio" else "h264+aac", kind))
            for (i, path, kind), ms in zip(files, durations, strict=True)
        ]

    done = 0
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="cut") as pool:
        futures = [pool.submit(cut, batch) for batch in batches]
        try:
            for batch, future in zip(batches, futures, strict=True):
                for i, file in future.result():
                    out[i].append(file)
                done += len(batch.items)
                hook(done / len(requests), f"cut {done}/{len(requests)} clips")
        finally:
            for future in futures:
                future.cancel()
    return out
