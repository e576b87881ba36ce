"""`dubset align` as a user runs it: files in, JSON out, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def dubset(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dubset_cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def write(tmp: Path, name: str, value: object) -> Path:
    path = tmp / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def test_example_output_has_the_documented_shape() -> None:
    out = dubset("align", "--en", str(EXAMPLES / "en.json"), "--ja", str(EXAMPLES / "ja.json"))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"clips", "unpaired_en", "unpaired_ja"}
    first = result["clips"][0]
    assert list(first) == [
        "start_ms",
        "end_ms",
        "ja_start_ms",
        "ja_end_ms",
        "en",
        "ja",
        "en_text",
        "ja_text",
    ]
    assert first["en"] == [0, 1] and first["ja"] == [0, 1]
    assert first["ja_text"] == "あなたが転校生？うん、ハルトです。"
    assert result["unpaired_en"] == [5] and result["unpaired_ja"] == [5]
    starts = [c["start_ms"] for c in result["clips"]]
    assert starts == sorted(starts)


def test_parameters_change_the_result(tmp_path: Path) -> None:
    en = write(tmp_path, "en.json", [{"start_ms": 0, "end_ms": 1000, "text": "a"}])
    ja = write(tmp_path, "ja.json", [{"start_ms": 1500, "end_ms": 2000, "text": "b"}])
    assert json.loads(dubset("align", "--en", str(en), "--ja", str(ja)).stdout)["clips"] == []
    wide = dubset("align", "--en", str(en), "--ja", str(ja), "--max-gap-ms", "500")
    assert len(json.loads(wide.stdout)["clips"]) == 1
    shifted = dubset("align", "--en", str(en), "--ja", str(ja), "--ja-offset-ms", "1000")
    clip = json.loads(shifted.stdout)["clips"][0]
    assert (clip["start_ms"], clip["ja_start_ms"]) == (0, 1000)


def test_asr_output_object_is_accepted(tmp_path: Path) -> None:
    asr = {
        "language": "en",
        "segments": [{"start_ms": 0, "end_ms": 900, "text": "hi", "words": []}],
    }
    en = write(tmp_path, "en.json", asr)
    ja = write(tmp_path, "ja.json", [{"start_ms": 0, "end_ms": 900, "text": "やあ"}])
    assert dubset("align", "--en", str(en), "--ja", str(ja)).returncode == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"start_ms": 10, "end_ms": 5, "text": "x"}]', "end_ms 5 < start_ms 10"),
        ('[{"start_ms": -1, "end_ms": 5}]', "negative"),
        ('[{"start_ms": NaN, "end_ms": 5}]', "NaN"),
        ('[{"start_ms": 1.5, "end_ms": 5}]', "integer"),
        ('[{"start_ms": "0", "end_ms": 5}]', "integer"),
        ('[{"end_ms": 5}]', "missing start_ms"),
        ('[{"start_ms": 0, "end_ms": 5, "text": 7}]', "text must be a string"),
        ('{"not": "a list"}', "expected a JSON list"),
        ("[1, 2]", "expected an object"),
        ('[{"start_ms": 0, ', "not valid JSON"),
        ("", "not valid JSON"),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content.encode("latin-1") if "\xff" in content else content.encode())
    out = dubset("align", "--en", str(EXAMPLES / "en.json"), "--ja", str(bad))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_missing_file_and_directory(tmp_path: Path) -> None:
    out = dubset("align", "--en", str(tmp_path / "nope.json"), "--ja", str(EXAMPLES / "ja.json"))
    assert out.returncode == 2 and "No such file" in out.stderr
    out = dubset("align", "--en", str(tmp_path), "--ja", str(EXAMPLES / "ja.json"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1


def test_negative_gap_rejected() -> None:
    out = dubset(
        "align",
        "--en",
        str(EXAMPLES / "en.json"),
        "--ja",
        str(EXAMPLES / "ja.json"),
        "--max-gap-ms",
        "-5",
    )
    assert out.returncode == 2 and "max-gap-ms" in out.stderr


def test_rerun_is_byte_identical() -> None:
    args = ("align", "--en", str(EXAMPLES / "en.json"), "--ja", str(EXAMPLES / "ja.json"))
    assert dubset(*args).stdout == dubset(*args).stdout
