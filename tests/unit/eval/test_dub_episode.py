"""`dubset dub` on a generated episode, then `dubset eval` of its report against the human dub:
every score of the Dub tables, from the real dubbed MKV and the embedded models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_cli.main import main as dubset
from dubset_common.subtitles import Cue, to_ass
from dubset_eval.evaluate import evaluate
from dubset_eval.report import to_json, to_text

pytestmark = pytest.mark.slow


def test_a_dubbed_episode_is_scored_against_the_human_dub(
    dub_episode: Path, tmp_path: Path
) -> None:
    truth = json.loads((dub_episode / "truth.json").read_text())
    names = {c["id"]: c["name"] for c in truth["characters"]}
    lines = sorted(truth["lines"], key=lambda x: x["ja"]["start_ms"])
    cues = [Cue(max(0, x["ja"]["start_ms"] - 300), x["ja"]["end_ms"] + 400, x["en"]["text"],
                names[x["speaker"]]) for x in lines]  # fmt: skip
    (tmp_path / "en.ass").write_text(to_ass(cues, "official"))
    out = tmp_path / "ep.dubbed.mkv"
    assert dubset(["dub", "--video", str(dub_episode / "ja.mp4"), "--en-subs",
                   str(tmp_path / "en.ass"), "--out", str(out)]) == 0  # fmt: skip

    report = evaluate(dub_episode / "truth.json", out.with_suffix(".report.json"))
    assert report.problems == () and report.notes == ()
    (row,) = report.dub
    t = row.timing
    assert t.lines >= 3 and t.matched_share is not None and t.matched_share >= 0.75
    # each line starts with its Japanese line; the human dub is within a second of it
    assert t.start_p50_ms is not None and t.start_p50_ms < 500
    assert t.rate_median is not None and 0.5 < t.rate_median < 2
    assert row.wer is not None and row.wer.n_ref > 10 and row.heard
    assert row.voices.characters == 2 and row.voices.voices >= 1
    # the tracks lie 1024 samples (21.3 ms) late: AAC priming
    assert row.bed is not None and 15 < row.bed.lag_ms < 30 and row.bed.seconds > 0.5
    assert row.bed.si_sdr_db is not None and row.bed.original_si_sdr_db is not None
    assert row.bed.original_si_sdr_db > 15  # the Japanese track over the same samples
    assert row.dnsmos is not None and 1 <= row.dnsmos <= 5
    for similarity in (row.similarity_ja, row.similarity_en):
        assert similarity is not None and -1 <= similarity <= 1
    assert "Dub timing" in to_text(report)
    (dub,) = to_json(report)["dub"]  # type: ignore[misc]
    assert dub["rerecognition"]["wer"] == pytest.approx(row.wer.rate, abs=1e-6)
