"""`dubset asr` as a user runs it: a file in, JSON on stdout, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_asr.assemble import default_base_dir
from dubset_cli.main import main


def _run(*argv: str) -> int:
    return main(list(argv))


def test_missing_file_and_missing_model_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run("asr", str(tmp_path / "nope.wav"), "--lang", "ja") == 2
    err = capsys.readouterr()
    assert err.out == "" and "no such file" in err.err and len(err.err.splitlines()) == 1
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16_000)
    monkeypatch.setenv("DUBSET_MODEL_DIR", str(tmp_path / "models"))
    assert _run("asr", str(wav), "--lang", "en") == 2
    assert "python -m dubset_asr.assemble" in capsys.readouterr().err
    assert _run("asr", str(wav), "--lang", "en", "--model-dir", str(tmp_path)) == 2
    assert "not a CTranslate2 Whisper model" in capsys.readouterr().err
    assert _run("asr", str(wav), "--lang", "en", "--beam-size", "0") == 2
    assert "--beam-size" in capsys.readouterr().err
    monkeypatch.delenv("DUBSET_ASR_AWS_BUCKET", raising=False)
    assert _run("asr", str(wav), "--lang", "en", "--backend", "aws-transcribe") == 2
    assert "DUBSET_ASR_AWS_BUCKET" in capsys.readouterr().err


def test_language_is_required_and_checked() -> None:
    with pytest.raises(SystemExit):
        _run("asr", "x.wav")
    with pytest.raises(SystemExit):
        _run("asr", "x.wav", "--lang", "fr")


@pytest.mark.slow
def test_silent_file_prints_an_empty_transcript(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (default_base_dir() / "model.bin").is_file():
        pytest.skip("embedded model not assembled")
    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.zeros(5 * 44_100, np.float32), 44_100)
    assert _run("asr", str(wav), "--lang", "ja") == 0
    assert json.loads(capsys.readouterr().out) == {"language": "ja", "segments": []}
