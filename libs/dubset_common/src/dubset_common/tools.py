"""External tools (ffmpeg, ffprobe) as bounded subprocesses: no stdin, a minimal environment,
capped output, a wall-clock limit."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from dubset_common.errors import ConfigError, InvalidInputError, TransientError

STDERR_TAIL = 4096
T = TypeVar("T")


class ToolError(RuntimeError):
    """A tool is missing or broke in a way that says nothing about the input."""


class ToolTimeoutError(ToolError):
    """A tool ran past its time limit: a slow or loaded host rather than a bad input (a corrupt
    input fails fast with a decode error), so worth retrying."""


class ToolOutputError(ValueError):
    """A tool wrote more to stdout than the caller allows: the input is not what it claims."""


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: str

    def reason(self) -> str:
        """The tool's last stderr line, or its exit status."""
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"


@functools.cache
def tool_version(exe: str) -> str:
    """The version word of `exe -version` ("5.1.8-0+deb12u1"), recorded with every output."""
    try:
        proc = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"{exe} -version failed: {exc}") from None
    words = proc.stdout.decode(errors="replace").split()
    if proc.returncode != 0 or len(words) < 3 or words[1] != "version":
        raise ToolError(f"{exe} -version printed no version (exit {proc.returncode})")
    return words[2]


def _drain(stream: IO[bytes], keep: int, head: bool, out: bytearray, over: list[bool]) -> None:
    """Read a pipe to its end, keeping its first (head) or last `keep` bytes."""
    while chunk := stream.read(65536):
        out.extend(chunk)
        if len(out) > keep:
            over.append(True)
            if head:
                del out[keep:]
            else:
                del out[: len(out) - keep]


def run_tool(argv: list[str], timeout_s: float, max_stdout: int) -> ToolResult:
    """Run argv with no stdin, at most max_stdout bytes of stdout (ToolOutputError beyond), the
    last STDERR_TAIL bytes of stderr, and a wall-clock limit (ToolTimeoutError)."""
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
            f"{Path(argv[0]).name} took longer than {timeout_s:g} s and was stopped "
            "(a slow or overloaded host?); retry, or give the service more CPU"
        ) from None
    finally:
        for t in readers:
            t.join()
    if over:
        raise ToolOutputError(f"{Path(argv[0]).name} reported more than {max_stdout} bytes")
    return ToolResult(proc.returncode, bytes(out), err.decode("utf-8", "replace"))


@contextlib.contextmanager
def stage_errors(input_error: type[Exception]) -> Iterator[None]:
    """A tool-running stage's failures as job errors: its input_error is the input's fault
    (not retried), a timeout a slow host's (retried), any other tool failure an operator's."""
    try:
        yield
    except input_error as exc:
        raise InvalidInputError(str(exc)) from None
    except ToolTimeoutError as exc:
        raise TransientError(str(exc)) from None
    except ToolError as exc:
        raise ConfigError(str(exc)) from None


def as_config_error(call: Callable[[], T]) -> T:
    """call() (a tool lookup: on PATH, its version), a ToolError from it as a ConfigError: a
    missing or broken tool is the operator's to fix, not the input's."""
    try:
        return call()
    except ToolError as exc:
        raise ConfigError(str(exc)) from None
