"""ffprobe and ffmpeg as locked-down subprocesses: local files only, bounded output, timeouts."""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dubset_packaging.core.model import PackagingInputError

PROTOCOLS = "file"
DEMUXERS = "mov,matroska,webm,avi,mpegts,flv,asf,ogg,mpeg,wav,mp3"
STDERR_TAIL = 4096
MAX_STDOUT = 64 * 1024 * 1024


class ToolError(RuntimeError):
    """ffmpeg or ffprobe is missing or broken: a configuration problem, not the input's."""


class ToolTimeoutError(RuntimeError):
    """ffmpeg or ffprobe ran past its time limit: a slow or loaded host, not a bad input, so
    worth retrying (a corrupt input fails fast with a decode error instead)."""


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


@dataclass(frozen=True)
class Tools:
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"

    def resolve(self) -> Tools:
        found = [shutil.which(self.ffmpeg), shutil.which(self.ffprobe)]
        if found[0] is None or found[1] is None:
            raise ToolError("ffmpeg/ffprobe not found on PATH (install ffmpeg)")
        return Tools(found[0], found[1])


@functools.cache
def tool_version(exe: str) -> str:
    """The version word of `exe -version` ("5.1.8-0+deb12u1")."""
    try:
        proc = subprocess.run([exe, "-version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"{exe} -version failed: {exc}") from None
    words = proc.stdout.decode(errors="replace").split()
    if proc.returncode != 0 or len(words) < 3 or words[1] != "version":
        raise ToolError(f"{exe} -version printed no version (exit {proc.returncode})")
    return words[2]


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: str

    def reason(self) -> str:
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"


def _drain(stream: IO[bytes], keep: int, head: bool, out: bytearray, over: list[bool]) -> None:
    while chunk := stream.read(65536):
        out.extend(chunk)
        if len(out) > keep:
            over.append(True)
            if head:
                del out[keep:]
            else:
                del out[: len(out) - keep]


def run_tool(argv: list[str], timeout_s: float, max_stdout: int = MAX_STDOUT) -> ToolResult:
    """Run argv with no stdin, bounded captured output and a wall-clock limit."""
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )
    except OSError as exc:
        raise ToolError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    over: list[bool] = []
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, max_stdout, True, out, over)),
        threading.Thread(target=_drain, args=(proc.stderr, STDERR_TAIL, False, err, [])),
    ]
    for t in readers:
        t.start()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise ToolTimeoutError(
            f"{Path(argv[0]).name} took longer than {timeout_s:.1f} s and was stopped "
            "(a slow or overloaded host?); retry, or give the service more CPU"
        ) from None
    finally:
        for t in readers:
            t.join()
    if over:
        raise PackagingInputError(f"{Path(argv[0]).name} reported more than {max_stdout} bytes")
    return ToolResult(proc.returncode, bytes(out), err.decode("utf-8", "replace"))


def input_url(path: Path) -> str:
    """The absolute file: URL of a non-empty regular file; anything else is refused."""
    try:
        st = path.stat()
    except OSError as exc:
        raise PackagingInputError(f"{path.name}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        raise PackagingInputError(f"{path.name}: not a non-empty regular file")
    return "file:" + str(path.resolve())


def input_args(path: Path) -> list[str]:
    return ["-protocol_whitelist", PROTOCOLS, "-format_whitelist", DEMUXERS, "-i", input_url(path)]


def output_url(path: Path) -> str:
    return "file:" + str(path.resolve())


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
