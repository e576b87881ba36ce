"""`dubset diarize`: JSON on stdout, RTTM on request, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_cli.main import main

FIXTURE = Path(__file__).parent / "fixtures" / "three_voices.flac"


def run(*argv: str) -> int:
    return main(["diarize", *argv])


@pytest.mark.slow
def test_cli_finds_three_voices_and_writes_rttm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a.rttm"
    assert run(str(FIXTURE), "--lang", "en", "--rttm", str(out), "--quiet") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["language"] == "en"
    assert result["speakers"] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]
    lines = out.read_text().splitlines()
    assert len(lines) == len(result["turns"])
    assert lines[0].startswith("SPEAKER three_voices 1 ")


@pytest.mark.slow
def test_cli_silence_gives_no_turns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.zeros((48_000 * 2, 2), np.float32), 48_000)
    assert run(str(wav), "--quiet") == 0
    assert json.loads(capsys.readouterr().out) == {"language": None, "speakers": [], "turns": []}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.wav"], "no such file"),
        (["{wav}", "--min-speakers", "3", "--max-speakers", "2"], "greater than max_speakers"),
        (["{wav}", "--backend", "pyannote"], "needs a model directory"),
        (["{bad}"], "not a readable audio file"),
    ],
)
def test_cli_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    wav, bad = tmp_path / "a.wav", tmp_path / "bad.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16_000)
    bad.write_bytes(b"RIFF....WAVE")
    argv = [a.format(wav=wav, bad=bad) for a in argv]
    assert run(*argv, "--quiet") == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
