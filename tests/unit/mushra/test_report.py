"""`dubset mushra-report`: rating files from the page, mapped through the key, screened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_cli.main import main

KIT = "0123456789abcdef"
# t1: A=reference B=baseline C=anchor; t2: A=baseline B=anchor C=reference
ORDER = {"t1": ("reference", "baseline", "anchor"), "t2": ("baseline", "anchor", "reference")}


def _cli(argv: list[str]) -> int:
    return main(argv)


@pytest.fixture
def key(tmp_path: Path) -> Path:
    trials = [
        {
            "id": t,
            "conditions": [
                {"label": label, "system": s, "path": f"audio/{t}/{label}.wav"}
                for label, s in zip("ABC", systems, strict=True)
            ],
        }
        for t, systems in ORDER.items()
    ]
    path = tmp_path / "trials.json"
    body = {
        "format": "dubset-mushra-key/1",
        "kit": KIT,
        "systems": ["reference", "baseline", "anchor"],
        "trials": trials,
    }
    path.write_text(json.dumps(body))
    return path


def _json_file(path: Path, rater: str, by_system: dict[str, dict[str, int]]) -> Path:
    trials = []
    for t, systems in ORDER.items():
        scores = {label: by_system[t][s] for label, s in zip("ABC", systems, strict=True)}
        trials.append({"trial": t, "scores": scores, "played": ["A", "B", "C"]})
    body = {"format": "dubset-mushra-ratings/1", "kit": KIT, "rater": rater, "trials": trials}
    path.write_text(json.dumps(body))
    return path


GOOD = {
    "t1": {"reference": 100, "baseline": 40, "anchor": 10},
    "t2": {"reference": 96, "baseline": 60, "anchor": 20},
}
SLOPPY = {
    "t1": {"reference": 50, "baseline": 90, "anchor": 10},
    "t2": {"reference": 100, "baseline": 90, "anchor": 20},
}


def test_letters_map_back_to_systems_and_sloppy_raters_are_dropped(
    key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _json_file(tmp_path / "a.json", "alice", GOOD)
    b = tmp_path / "bob.csv"
    rows = ["kit,rater,trial,condition,score"]
    for t, systems in ORDER.items():
        pairs = zip("ABC", systems, strict=True)
        rows += [f"{KIT},bob,{t},{lab},{SLOPPY[t][s]}" for lab, s in pairs]
    b.write_text("\n".join(rows) + "\n")
    assert _cli(["mushra-report", str(a), str(b), "--json"]) == 0  # key found beside a.json
    out = json.loads(capsys.readouterr().out)
    assert out["kept"] == ["alice"]
    assert out["excluded"][0]["rater"] == "bob"
    assert "1 of 2 trials (50% > 15%)" in out["excluded"][0]["reason"]
    assert out["systems"]["baseline"]["mean"] == 50.0  # alice only: 40, 60
    assert out["systems"]["baseline"]["ci_half_width"] == pytest.approx(127.06, abs=0.01)
    assert out["per_rater"]["bob"]["baseline"]["mean"] == 90.0
    # with a looser rule bob counts
    assert _cli(["mushra-report", str(a), str(b), "--max-fraction", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kept"] == ["alice", "bob"] and out["systems"]["baseline"]["mean"] == 70.0


def test_text_table(key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _json_file(tmp_path / "a.json", "alice", GOOD)
    assert _cli(["mushra-report", str(a), "--key", str(key)]) == 0
    text = capsys.readouterr().out
    assert "1 raters, 1 kept" in text
    lines = [ln.split() for ln in text.splitlines()]
    assert next(ln[:3] for ln in lines if ln[:1] == ["reference"]) == ["reference", "2", "98.0"]
    assert next(ln[:3] for ln in lines if ln[:1] == ["anchor"]) == ["anchor", "2", "15.0"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(kit="ffffffffffffffff"), "the key is kit"),
        (lambda d: d["trials"][0]["scores"].update(D=50), "has no condition 'D'"),
        (lambda d: d["trials"][0]["scores"].update(A=120), "outside 0..100"),
        (lambda d: d.update(rater=" "), "no name"),
        (lambda d: d.update(format="x"), "not a ratings file"),
    ],
)
def test_wrong_files_are_refused(  # type: ignore[no-untyped-def]
    key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change, message: str
) -> None:
    a = _json_file(tmp_path / "a.json", "alice", GOOD)
    body = json.loads(a.read_text())
    change(body)
    a.write_text(json.dumps(body))
    assert _cli(["mushra-report", str(a)]) == 2
    assert message in capsys.readouterr().err


def test_same_rater_twice_and_missing_key(
    key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _json_file(tmp_path / "a.json", "alice", GOOD)
    b = _json_file(tmp_path / "b.json", "alice", GOOD)
    assert _cli(["mushra-report", str(a), str(b)]) == 2
    assert "twice" in capsys.readouterr().err
    assert _cli(["mushra-report", str(a), "--key", str(tmp_path / "none.json")]) == 2
    assert "none.json" in capsys.readouterr().err
