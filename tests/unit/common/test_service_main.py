"""The shared service entry point: bad settings and startup failures exit 2 with one line."""

from __future__ import annotations

import pytest

from dubset_common.service import run_service


class MissingTool(RuntimeError):
    pass


def _never(*_: object) -> object:
    raise AssertionError("must not start")


def _missing_tool(*_: object) -> object:
    raise MissingTool("ffmpeg not found")


def test_bad_setting_exits_2_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUBSET_BUS", "bogus")
    assert run_service("media", _never, _never, ["worker"]) == 2  # type: ignore[arg-type]
    assert capsys.readouterr().err.startswith("dubset-media: DUBSET_BUS")


def test_declared_startup_error_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUBSET_BUS", "inproc")
    monkeypatch.setenv("DUBSET_STORE", "local")
    monkeypatch.setenv("DUBSET_METRICS_PORT", "0")
    code = run_service(
        "media",
        _missing_tool,  # type: ignore[arg-type]
        _missing_tool,  # type: ignore[arg-type]
        ["worker"],
        startup_errors=(MissingTool,),
    )
    assert code == 2
    assert "ffmpeg not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_service("media", _never, _never, ["bogus-role"])  # type: ignore[arg-type]
