"""ffmpeg and ffprobe kept to local files: input URLs, whitelist arguments and the bounded run."""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from dubset_common import tools
from dubset_common.tools import ToolError, ToolOutputError, ToolResult

PROTOCOLS = "file"


@dataclass(frozen=True)
class Tools:
    """The ffmpeg and ffprobe executables a stage runs (names or paths)."""

    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"

    def resolve(self) -> Tools:
        found = [shutil.which(self.ffmpeg), shutil.which(self.ffprobe)]
        if found[0] is None or found[1] is None:
            raise ToolError("ffmpeg/ffprobe not found on PATH (install ffmpeg)")
        return Tools(found[0], found[1])


class UsesTools:
    """For a stage that runs ffmpeg: the tools given, else looked up on first use, so a missing
    ffmpeg fails that request as a configuration error rather than the import."""

    def __init__(self, tools: Tools | None = None) -> None:
        self._tools = tools

    @property
    def tools(self) -> Tools:
        if self._tools is None:
            self._tools = tools.as_config_error(Tools().resolve)
        return self._tools


def run_tool(
    argv: list[str], timeout_s: float, max_stdout: int, input_error: type[Exception]
) -> ToolResult:
    """tools.run_tool; too much output means the input is not what it claims (input_error)."""
    try:
        return tools.run_tool(argv, timeout_s, max_stdout)
    except ToolOutputError as exc:
        raise input_error(str(exc)) from None


def input_url(
    path: Path, input_error: type[Exception], shown: str, refused: str | None = None
) -> str:
    """The absolute file: URL of a non-empty regular file. Anything else (missing, FIFO, device,
    directory, empty) raises input_error(f"{shown}: {why}"), why being the OS error, else
    `refused` or the check that failed."""
    try:
        st = path.stat()
    except OSError as exc:
        raise input_error(f"{shown}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise input_error(f"{shown}: {refused or 'not a regular file'}")
    if st.st_size == 0:
        raise input_error(f"{shown}: {refused or 'empty file'}")
    return file_url(path)


def input_args(url: str, demuxers: str) -> list[str]:
    """ffmpeg's `-i url`, opened through the file protocol and the given demuxers only."""
    return ["-protocol_whitelist", PROTOCOLS, "-format_whitelist", demuxers, "-i", url]


def file_url(path: Path) -> str:
    """The absolute file: URL ffmpeg reads or writes path by (a bare path could name a protocol)."""
    return "file:" + str(path.resolve())
