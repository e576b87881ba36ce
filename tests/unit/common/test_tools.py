"""The bounded tool runner ffmpeg and ffprobe go through."""

from __future__ import annotations

import sys

import pytest

from dubset_common.tools import (
    ToolError,
    ToolOutputError,
    ToolTimeoutError,
    run_tool,
    tool_version,
)


def test_output_and_stderr_tail() -> None:
    code = "import sys; print('out'); sys.stderr.write('x' * 10000 + 'last line\\n'); sys.exit(3)"
    result = run_tool([sys.executable, "-c", code], 30, 1024)
    assert result.returncode == 3 and result.stdout == b"out\n"
    assert result.reason() == "x" * (4096 - len("last line\n")) + "last line"


def test_a_tool_that_runs_too_long_is_stopped_and_counts_as_retryable() -> None:
    with pytest.raises(ToolTimeoutError, match="longer than 1 s") as err:
        run_tool([sys.executable, "-c", "import time; time.sleep(30)"], 1, 1024)
    assert isinstance(err.value, ToolError)


def test_more_output_than_allowed_is_refused() -> None:
    with pytest.raises(ToolOutputError, match="more than 100 bytes"):
        run_tool([sys.executable, "-c", "print('y' * 1000)"], 30, 100)


def test_a_missing_tool_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="cannot run"):
        run_tool(["/nonexistent/ffmpeg"], 5, 100)
    with pytest.raises(ToolError):
        tool_version("/nonexistent/ffprobe")


def test_the_tool_gets_no_stdin_and_a_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leak")
    code = "import os, sys; print(sorted(os.environ)); print(sys.stdin.read() == '')"
    lines = run_tool([sys.executable, "-c", code], 30, 4096).stdout.decode().splitlines()
    assert "AWS_SECRET_ACCESS_KEY" not in lines[0] and lines[1] == "True"
