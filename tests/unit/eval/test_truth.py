"""truth.json validation and the strict dataset time format."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from dubset_eval.errors import EvalInputError
from dubset_eval.fields import FieldError, timestamp_ms
from dubset_eval.truth import load_truth
from tests.unit.eval.episode import truth_value, write_json


def test_valid_truth_loads(tmp_path: Path) -> None:
    truth = load_truth(write_json(tmp_path / "truth.json", truth_value()))
    assert truth.episode_id == "fake-1-e01"
    assert [ln.speaker for ln in truth.lines] == ["S0", "S1", "S0"]
    assert truth.lines[1].ja.start_ms == 4550
    assert truth.pairs[0].lines == (0, 1)
    assert truth.stems["ja"].backing == tmp_path / "ja_backing.wav"
    assert truth.bed == tmp_path / "backing.wav"
    assert truth.duration_ms == {"ja": 13500, "en": 12000}


def _broken(tmp_path: Path, edit: object) -> str:
    value = copy.deepcopy(truth_value())
    assert callable(edit)
    edit(value)
    path = write_json(tmp_path / "truth.json", value)
    with pytest.raises(EvalInputError) as info:
        load_truth(path)
    return str(info.value)


def test_errors_name_the_bad_field(tmp_path: Path) -> None:
    assert "format" in _broken(tmp_path, lambda v: v.update(format="dubset-truth/2"))
    assert "lines[1].en.start_ms" in _broken(
        tmp_path, lambda v: v["lines"][1]["en"].update(start_ms="3050")
    )
    assert "lines[0].speaker" in _broken(tmp_path, lambda v: v["lines"][0].update(speaker="S9"))
    assert "pairs[1].lines" in _broken(tmp_path, lambda v: v["pairs"][1].update(lines=[7]))
    assert "end_ms" in _broken(tmp_path, lambda v: v["lines"][2]["ja"].update(end_ms=1))
    assert "stems.en" in _broken(tmp_path, lambda v: v["stems"]["en"].pop("dialogue"))
    assert "'sample_rate'" in _broken(tmp_path, lambda v: v.pop("sample_rate"))


def test_unreadable_truth(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match="cannot read truth"):
        load_truth(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(EvalInputError, match="not valid JSON"):
        load_truth(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text(json.dumps([]))
    with pytest.raises(EvalInputError, match="expected an object"):
        load_truth(tmp_path / "list.json")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("00:00:00.000", 0), ("00:01:02.345", 62345), ("01:00:00.001", 3_600_001)],
)
def test_timestamps(text: str, ms: int) -> None:
    assert timestamp_ms(text, "t") == ms


@pytest.mark.parametrize(
    "text",
    [
        "0:01:02.345",
        "00:01:02.34",
        "00:01:02,345",
        "00:60:00.000",
        "00:00:60.000",
        "",
        62345,
        "00:01:02.345 ",
        "-0:01:02.345",
    ],
)
def test_timestamps_are_strict(text: object) -> None:
    with pytest.raises(FieldError, match=r"HH:MM:SS\.mmm"):
        timestamp_ms(text, "t")


def test_a_language_may_be_absent_from_a_line_and_the_stems(tmp_path: Path) -> None:
    """An English-only fixture (LibriVox): JA null on every line, EN dialogue stem only."""
    from dubset_eval.truth import parse_truth

    value = {
        "format": "dubset-truth/1",
        "episode_id": "x",
        "show": "x",
        "episode_number": 1,
        "sample_rate": 16000,
        "ja_offset_ms": 0,
        "duration_ms": {"en": 5000},
        "characters": [{"id": "S0"}],
        "lines": [
            {"index": 0, "line_id": "u1", "speaker": "S0", "ja": None,
             "en": {"text": "hello there", "start_ms": 100, "end_ms": 900}},
        ],
        "pairs": [],
        "stems": {"en": {"dialogue": "en_dialogue.wav"}},
    }  # fmt: skip
    truth = parse_truth(value, tmp_path / "truth.json")
    assert truth.spoken("ja") == [] and [u.text for _, u in truth.spoken("en")] == ["hello there"]
    assert truth.stems["en"].backing is None and "ja" not in truth.stems
