"""bench/heldout_bench.py and bench/realspeech.py: the held-out grid, the figures taken from a
`dubset eval --json` report, their distribution, and the real recordings' reference turns."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import heldout_bench as heldout
import realspeech

from dubset_eval.der import Turn


def test_the_grid_spans_the_protocol_and_never_reaches_the_tuning_seeds() -> None:
    specs = heldout.grid(20)
    assert [s.seed for s in specs] == list(range(1_000_000, 1_000_020))
    assert {s.seconds for s in specs} == {60, 90, 120, 180, 300}
    assert {s.characters for s in specs} == {2, 3, 4, 5, 6}
    assert {s.overlap_rate for s in specs} == {0.0, 0.05, 0.1, 0.15}
    assert {s.noise_db for s in specs} == {None, 20.0}
    # the settings vary independently: every length meets both noise settings
    assert {(s.seconds, s.noise_db) for s in specs} == {
        (n, d) for n in (60, 90, 120, 180, 300) for d in (None, 20.0)
    }
    assert heldout.grid(20) == specs
    with pytest.raises(SystemExit):
        heldout.main(["--first-seed", "47", "--episodes", "1"])


def test_sample_arguments_name_every_setting() -> None:
    noisy = heldout.Spec("h01", 1_000_001, 90, 5, 0.05, 20.0, 700)
    assert noisy.sample_args() == [
        "--seconds", "90", "--characters", "5", "--seed", "1000001",
        "--overlap-rate", "0.05", "--ja-offset-ms", "700", "--noise-db", "20.0",
    ]  # fmt: skip
    assert "--noise-db" not in heldout.Spec("h00", 1, 60, 2, 0.0, None, 0).sample_args()


REPORT = {
    "clips": [
        {"source": "stages/alignment/x/clips.json", "f1": 0.5, "precision": 0.5, "recall": 0.5,
         "median_boundary_error_ms": 90.0},
        {"source": "datasets/default/anim400k_annotations.json", "f1": 0.9, "precision": 1.0,
         "recall": 0.818, "median_boundary_error_ms": 30.0},
    ],
    "asr": [
        {"source": "stages/asr/a/transcript.json", "language": "ja", "rate": 0.2},
        {"source": "datasets/default/anim400k_annotations.json", "language": "ja", "rate": 0.1},
        {"source": "stages/asr/b/transcript.json", "language": "en", "rate": 0.05},
    ],
    "diarization": [
        {"source": "stages/diarization/c/turns.json", "language": "en", "der": 0.04,
         "speaker_count_error": -1},
    ],
}  # fmt: skip


def test_figures_prefer_the_exported_dataset_and_fill_what_is_missing_with_none() -> None:
    figures = heldout.figures(REPORT)
    assert figures["clip_f1"] == 0.9 and figures["boundary_p50_ms"] == 30.0
    assert figures["cer"] == 0.1 and figures["wer"] == 0.05
    assert figures["der_en"] == 0.04 and figures["speaker_count_error_en"] == 1
    assert figures["der_ja"] is None and figures["speaker_count_error_ja"] is None


def test_distribution_takes_the_worst_by_the_figures_direction() -> None:
    rows = [
        {"figures": {"clip_f1": f, "der_en": d}} for f, d in ((0.9, 0.1), (0.5, 0.3), (1.0, 0.0))
    ]
    rows.append({"error": "dubset run failed"})
    dist = heldout.distribution(rows)
    assert dist["clip_f1"]["worst"] == 0.5 and dist["der_en"]["worst"] == 0.3
    assert dist["clip_f1"]["median"] == 0.9 and dist["clip_f1"]["n"] == 3
    assert dist["clip_f1"]["p10"] == pytest.approx(0.58)
    assert heldout.percentile([5.0], 10) == 5.0


def test_rttm_turns_by_folded_file_id() -> None:
    text = (
        "SPEAKER trn00 1 2.977 0.391 <NA> <NA> MÉO069 <NA> <NA>\n"
        "SPEAKER trn00 1 18.705 0.964 <NA> <NA> FEO066 <NA> <NA>\n"
        "SPEAKER sample 1 6.690 0.430 <NA> <NA> speaker90 <NA> <NA>\n"
        "SPKR-INFO trn00 1 <NA> <NA> <NA> unknown FEO066 <NA> <NA>\n"
    )
    turns = realspeech.read_rttm(text)
    assert turns["trn00"] == [Turn("MÉO069", 2977, 3368), Turn("FEO066", 18705, 19669)]
    assert turns["sample"] == [Turn("speaker90", 6690, 7120)]
    assert realspeech._fold("trñ00") == "trn00"
    with pytest.raises(ValueError, match="line 1"):
        realspeech.read_rttm("SPEAKER x 1 0.0")


def test_reports_of_parts_merge_into_one(tmp_path: Path) -> None:
    def part(name: str, seed: int, f1: float) -> dict[str, object]:
        spec = heldout.Spec(name, seed, 60, 2, 0.0, None, 0)
        return {"rows": [{"spec": heldout.asdict(spec), "wall_s": 1.0, "figures": {"clip_f1": f1}}]}

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(heldout.json.dumps(part("h01", 1_000_001, 0.5)))
    b.write_text(heldout.json.dumps(part("h00", 1_000_000, 1.0)))
    out = tmp_path / "all.json"
    assert heldout.main(["--merge", str(a), str(b), "--out", str(out)]) == 0
    merged = heldout.json.loads(out.read_text())
    assert [r["spec"]["name"] for r in merged["rows"]] == ["h00", "h01"]
    assert merged["seeds"] == "1000000..1000001"
    assert merged["distribution"]["clip_f1"]["median"] == 0.75


def test_quality_deciles_pool_the_episodes_scored_pairs() -> None:
    report = {"quality": [{"scores": [0.9, 0.2], "is_correct": [True, False]}]}
    pairs = heldout.scored_pairs(report)
    assert pairs == [[0.9, True], [0.2, False]]
    rows: list[dict[str, object]] = [{"quality": pairs}, {"quality": [[0.5, True]]}, {}]
    deciles = heldout.quality_deciles(rows, bins=2)
    assert [(d["pairs"], d["correct"], d["low"]) for d in deciles] == [(1, 0, 0.2), (2, 2, 0.5)]
    assert heldout.quality_deciles([]) == []
