"""Which files are results, of what kind and language (truth-format.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubset_eval.discover import discover
from dubset_eval.errors import EvalInputError
from tests.unit.eval.episode import truth_value, write_json, write_wav

ASR = {"segments": [], "language": "auto"}


def kinds(path: Path, exclude: frozenset[Path] = frozenset()) -> dict[str, tuple[str, ...]]:
    d = discover(path, exclude)
    out: dict[str, tuple[str, ...]] = {}
    for f in d.found:
        rel = f.path.relative_to(d.root).as_posix()
        out[rel] = (*out.get(rel, ()), f"{f.kind}:{f.language}:{f.stem}")
    return out


def test_language_rules_in_order(tmp_path: Path) -> None:
    write_json(tmp_path / "en" / "a.json", {"segments": [], "language": "ja-JP"})  # content
    write_json(tmp_path / "en" / "ja_b.json", ASR)  # name beats folder
    write_json(tmp_path / "en" / "x" / "c.json", ASR)  # nearest folder named en
    write_json(tmp_path / "ja" / "en" / "d.json", ASR)  # nearest wins
    stage = tmp_path / "stages" / "asr" / "k"
    write_json(stage / "e.json", ASR)  # sibling manifest's params
    write_json(stage / "_manifest.json", {"params": {"language": "japanese"}, "outputs": {}})
    write_json(tmp_path / "f.json", ASR)  # no rule applies
    found = kinds(tmp_path)
    assert found["en/a.json"] == ("asr:ja:None",)
    assert found["en/ja_b.json"] == ("asr:ja:None",)
    assert found["en/x/c.json"] == ("asr:en:None",)
    assert found["ja/en/d.json"] == ("asr:en:None",)
    assert found["stages/asr/k/e.json"] == ("asr:ja:None",)
    assert found["stages/asr/k/_manifest.json"] == ("stage-manifest:None:None",)
    assert found["f.json"] == ("asr:None:None",)


def test_kinds(tmp_path: Path) -> None:
    write_json(tmp_path / "diar.json", {"turns": [], "language": "en"})
    write_json(tmp_path / "both.json", {"clips": [], "ja_offset_ms": 3})
    write_json(tmp_path / "off.json", {"offset": {"ja_offset_ms": 3, "confidence": 1}})
    write_json(tmp_path / "segments.json", {"segments": []})  # no language key: not ASR
    write_json(tmp_path / "other.json", {"clips": [{"start": 1}]})
    write_json(tmp_path / "truth.json", truth_value())  # never a result
    write_wav(tmp_path / "en.dialogue.wav", np.zeros(10))
    write_wav(tmp_path / "ja" / "BACKING.wav", np.zeros(10))
    write_wav(tmp_path / "ja" / "ja_mix.wav", np.zeros(10))
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "manifest.jsonl").write_text("")
    (tmp_path / "broken.json").write_text("{")
    d = discover(tmp_path)
    found = kinds(tmp_path)
    assert found == {
        "diar.json": ("diarization:en:None",),
        "both.json": ("alignment:None:None", "offset:None:None"),
        "off.json": ("offset:None:None",),
        "en.dialogue.wav": ("separation:en:dialogue",),
        "ja/BACKING.wav": ("separation:ja:backing",),
        "ds": ("dataset:None:None",),
    }
    assert d.ignored == 4
    assert d.problems == ()
    assert len(d.notes) == 1 and d.notes[0].startswith("broken.json:")


def test_truth_files_are_excluded(tmp_path: Path) -> None:
    stem = write_wav(tmp_path / "ja_dialogue.wav", np.zeros(10))
    assert kinds(tmp_path) == {"ja_dialogue.wav": ("separation:ja:dialogue",)}
    assert kinds(tmp_path, frozenset({stem.resolve()})) == {}


def test_a_single_file_takes_its_folder_language(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "ja" / "dialogue.wav", np.zeros(10))
    assert kinds(path) == {"dialogue.wav": ("separation:ja:dialogue",)}


def test_unreadable_stage_manifest_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "_manifest.json").write_text("not json")
    assert len(discover(tmp_path).problems) == 1


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match="does not exist"):
        discover(tmp_path / "nope")
