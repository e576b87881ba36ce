"""`dubset quality` on local files: the fragment written, a missing file refused in a line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_cli.main import main
from dubset_common.objstore import LocalStore
from tests.unit.quality.test_stage import GOOD_JP, _inputs

NAMES = {"episode": "episode", "ja_dialogue": "ja-dialogue", "en_dialogue": "en-dialogue",
         "ja": "ja", "en": "en", "ja_turns": "ja-turns", "en_turns": "en-turns",
         "en_backing": "en-backing"}  # fmt: skip


def test_quality_on_local_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(tmp_path / "src")
    refs = _inputs(store, tmp_path)
    args = ["quality", "--out", str(tmp_path / "q.json"), "--no-reasr", "--no-dnsmos"]
    for name, info in refs.items():
        args += [f"--{NAMES[name]}", str(tmp_path / "src" / info.key)]
    assert main(args) == 0, capsys.readouterr().err
    doc = json.loads((tmp_path / "q.json").read_text())
    assert doc["clips"][GOOD_JP]["overlap_ja"] == 0.0
    at = args.index("--en-turns") + 1
    missing = [*args[:at], str(tmp_path / "nope.json"), *args[at + 1 :]]
    assert main(missing) == 2
    assert "nope.json: no such file" in capsys.readouterr().err
