"""`dubset separate` on local files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_cli.main import main
from tests.unit.separation.synth import pair


def _run(*argv: str) -> int:
    return main(["separate", *argv])


def test_cli_writes_four_stems_and_a_summary(tmp_path: Path) -> None:
    pair(tmp_path, seconds=6.0)
    out = tmp_path / "out"
    assert (
        _run("--ja", str(tmp_path / "ja.wav"), "--en", str(tmp_path / "en.wav"), "--out", str(out))
        == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "en_backing.wav",
        "en_dialogue.wav",
        "ja_backing.wav",
        "ja_dialogue.wav",
        "separation.json",
    ]
    summary = json.loads((out / "separation.json").read_text())
    assert summary["backend"] == "dualdub" and set(summary["languages"]) == {"ja", "en"}


def test_cli_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pair(tmp_path, seconds=3.0)
    out = str(tmp_path / "out")
    assert _run("--ja", str(tmp_path / "ja.wav"), "--backend", "dualdub", "--out", out) == 2
    assert "dualdub needs both" in capsys.readouterr().err
    assert _run("--en", str(tmp_path / "nope.wav"), "--out", out) == 2
    assert "no such file" in capsys.readouterr().err
    assert _run("--out", out) == 2
    assert "no audio given" in capsys.readouterr().err


def test_cli_spleeter_without_a_model_fails_loudly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pair(tmp_path, seconds=3.0)
    monkeypatch.delenv("DUBSET_SPLEETER_MODEL_DIR", raising=False)
    rc = _run(
        "--en", str(tmp_path / "en.wav"), "--backend", "spleeter", "--out", str(tmp_path / "o")
    )
    assert rc == 2
    assert "no model directory" in capsys.readouterr().err
    empty = tmp_path / "models"
    empty.mkdir()
    monkeypatch.setenv("DUBSET_SPLEETER_PYTHON", "/bin/sh")
    rc = _run(
        "--en",
        str(tmp_path / "en.wav"),
        "--backend",
        "spleeter",
        "--model-dir",
        str(empty),
        "--out",
        str(tmp_path / "o"),
    )
    assert rc == 2
    assert "holds no TensorFlow checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "o" / "en_backing.wav").exists()
