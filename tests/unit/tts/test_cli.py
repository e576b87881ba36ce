"""`dubset tts` on local files, with the real stock backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_cli.main import main
from tests.unit.tts.decode import decoded_ms

TEXT = "Come on, we have to hurry!"


def _run(argv: list[str]) -> int:
    return main(["tts", *argv])


def test_mp3_of_the_clip_length_over_the_backing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rate = 16_000
    t = np.arange(3 * rate) / rate
    sf.write(tmp_path / "b.wav", 0.1 * np.sin(2 * np.pi * 110 * t), rate)
    out = tmp_path / "dub.mp3"
    argv = ["--text", TEXT, "--backing", str(tmp_path / "b.wav"), "--duration-ms", "2500"]
    argv += ["--no-scores", "--out", str(out), "--json"]
    assert _run(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["voice"] == "piper:joe" and report["text"] == TEXT
    assert report["backend"].startswith("piper-tts-")
    assert report["duration_ms"] == decoded_ms(out)
    assert abs(report["duration_ms"] - 2500) <= 30
    assert set(report["scores"]) == {"duration_ratio"}
    first = out.read_bytes()
    assert _run(argv) == 0
    assert out.read_bytes() == first  # deterministic bytes


def test_wav_and_dry_speech_without_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, dry = tmp_path / "dub.wav", tmp_path / "dry.wav"
    argv = ["--text", TEXT, "--sample-rate", "22050", "--no-scores", "--out", str(out)]
    assert _run([*argv, "--speech-out", str(dry)]) == 0
    printed = capsys.readouterr().out
    assert "voice: piper:joe" in printed and "fits: yes" in printed
    mix, rate = sf.read(out)
    speech, _ = sf.read(dry)
    assert rate == 22_050 and len(mix) == len(speech) and len(mix) > rate  # over a second
    assert np.abs(mix).max() > 0.05


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--text", TEXT, "--out", "dub.ogg"], "--out must end in .wav or .mp3"),
        (["--text", "", "--out", "dub.wav"], "no English text"),
        (["--text", TEXT, "--reference", "missing.wav", "--out", "d.wav"], "no such file"),
        (["--text", TEXT, "--model-dir", "/m", "--out", "d.wav"], "for --backend yourtts only"),
        (["--text", TEXT, "--backend", "yourtts", "--out", "d.wav"], "needs a model directory"),
        (["--text", TEXT, "--sample-rate", "100", "--out", "d.wav"], "8000..48000"),
        (["--text", TEXT, "--translation", "whisper", "--out", "d.wav"], "needs the clip's JA"),
    ],
)
def test_errors_exit_2_with_a_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUBSET_TTS_YOURTTS_DIR", raising=False)
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("dubset tts: ") and message in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_reference_picks_a_matched_voice_and_scores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A high-pitched reference: the voice is shifted toward it and the scores are computed."""
    from dubset_voices.engines import FestivalEngine

    audio, rate = FestivalEngine().synthesize("I never thought we would meet again.", "slt")
    sf.write(tmp_path / "ref.wav", audio, rate)
    out = tmp_path / "dub.wav"
    argv = ["--text", TEXT, "--reference", str(tmp_path / "ref.wav"), "--duration-ms", "2400"]
    assert _run([*argv, "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["voice"].startswith("festival:slt")
    assert report["similarity"] > 0.7
    assert set(report["scores"]) == {"dnsmos", "duration_ratio", "speaker_similarity"}
    assert 1.0 <= report["scores"]["dnsmos"] <= 5.0
