"""`dubset eval` as a user runs it: the table, --json, and exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dubset_cli.main import main
from tests.unit.eval.episode import CLIP_IDS, write_results, write_truth


@pytest.fixture
def episode(tmp_path: Path) -> tuple[Path, Path]:
    return write_truth(tmp_path / "truth"), write_results(tmp_path / "result")


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main(["eval", *(str(a) for a in args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_scores_and_writes_deterministic_json(
    episode: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, result = episode
    code, out, err = run(capsys, "--truth", truth, "--result", result, "--json", tmp_path / "a")
    assert (code, err) == (0, "")
    for title in ("ASR", "Diarization", "Separation", "Clips", "Offset", "Completeness"):
        assert f"\n{title} (" in out or f"\n{title}\n" in out
    run(capsys, "--truth", truth, "--result", result, "--json", tmp_path / "b")
    first = (tmp_path / "a").read_bytes()
    assert first == (tmp_path / "b").read_bytes()
    value = json.loads(first)
    assert first.decode() == json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    asr = {(r["source"], r["language"]): r for r in value["asr"]}
    assert asr["asr/en/segments.json", "en"]["rate"] == round(2 / 11, 6)
    assert value["offsets"][0]["error_ms"] == 20
    assert value["defects"] == 0


def test_corrupt_media_exits_1(
    episode: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    truth, result = episode
    mp3 = f"anim400k_audio_clips/{CLIP_IDS[0][0]}.mp3"
    path = result / "dataset" / mp3
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    code, out, _ = run(capsys, "--truth", truth, "--result", result)
    assert code == 1
    assert f"corrupt: dataset/manifest.jsonl: {mp3}" in out
    assert out.endswith("1 defects\n")


def test_missing_or_unlisted_media_exits_1(
    episode: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    truth, result = episode
    mp4 = f"anim400k_video_clips/{CLIP_IDS[1][1]}.mp4"
    (result / "dataset" / mp4).unlink()
    code, out, _ = run(capsys, "--truth", truth, "--result", result / "dataset")
    assert code == 1
    assert f"missing: manifest.jsonl: {mp4}" in out
    manifest = result / "dataset" / "manifest.jsonl"
    manifest.write_text("".join(ln for ln in manifest.open() if mp4 not in ln))
    code, out, _ = run(capsys, "--truth", truth, "--result", result / "dataset")
    assert code == 1
    assert f"unlisted: manifest.jsonl: {mp4}" in out


def test_stage_output_changed_after_its_manifest_exits_1(
    episode: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    truth, result = episode
    stage = result / "stages" / "separation" / "k1"
    (stage / "backing.wav").unlink()
    code, out, _ = run(capsys, "--truth", truth, "--result", stage)
    assert code == 1
    assert "missing: _manifest.json: backing.wav" in out


@pytest.mark.parametrize("case", ["absent", "invalid", "no result", "nothing recognised"])
def test_bad_input_exits_2_with_one_line(
    case: str, episode: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, result = episode
    if case == "absent":
        truth = tmp_path / "nope.json"
    elif case == "invalid":
        truth.write_text(json.dumps({"format": "dubset-truth/1"}))
    elif case == "no result":
        result = tmp_path / "missing"
    else:
        result = tmp_path / "empty"
        result.mkdir()
    code, out, err = run(capsys, "--truth", truth, "--result", result)
    assert code == 2
    assert out == ""
    assert err.startswith("dubset eval: ") and err.count("\n") == 1


def test_the_installed_command(episode: tuple[Path, Path]) -> None:
    truth, result = episode
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dubset_cli.main",
            "eval",
            "--truth",
            str(truth),
            "--result",
            str(result / "media" / "offset.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [ln.split()[:4] for ln in proc.stdout.splitlines()]
    assert ["offset.json", "1480", "1500", "20"] in rows
