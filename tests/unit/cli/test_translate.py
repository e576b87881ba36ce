"""`dubset translate` on local files: subtitles as the translation, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_cli.main import main as dubset


def _files(tmp: Path) -> tuple[Path, Path]:
    ja = tmp / "transcript.json"
    ja.write_text(json.dumps({"segments": [
        {"start_ms": 1000, "end_ms": 2000, "text": "ただいま"},
        {"start_ms": 3000, "end_ms": 4500, "text": "おかえり"},
    ]}))  # fmt: skip
    subs = tmp / "en.srt"
    subs.write_text(
        "1\n00:00:00,800 --> 00:00:02,300\nI'm home.\n\n"
        "2\n00:00:02,900 --> 00:00:04,800\nWelcome back.\n"
    )
    return ja, subs


def test_subtitles_become_the_lines_with_their_budgets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ja, subs = _files(tmp_path)
    out = tmp_path / "translation.json"
    assert dubset(["translate", "--ja", str(ja), "--subs", str(subs), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["backend"] == "subtitles"
    assert [(x["en_text"], x["budget_ms"]) for x in doc["lines"]] == [
        ("I'm home.", 1000 + 600),  # 600 ms into the silence, 250 ms before the next
        ("Welcome back.", 1500 + 600),  # into the silence after it
    ]
    assert "2 lines, 2 fit their time (subtitles)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--backend", "whisper"], "needs the audio"),
        (["--backend", "openai", "--model", "m", "--endpoint", "ftp://x"], "http(s) URL"),
        (["--subs", "nowhere.srt"], "No such file"),
        (["--speech-rate", "40"], "speech_rate must be 1-12"),
    ],
)
def test_what_cannot_run_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], reason: str
) -> None:
    ja, _subs = _files(tmp_path)
    assert dubset(["translate", "--ja", str(ja), *extra]) == 2
    assert reason in capsys.readouterr().err
