"""The quality score against clip correctness: matched pairs are correct, deciles by rank."""

from __future__ import annotations

import pytest

from dubset_eval.clips import ClipSpan
from dubset_eval.errors import EvalInputError
from dubset_eval.qualityscore import deciles, quality_json, quality_lines, quality_row


def _doc(spans: list[tuple[int, int, float]]) -> dict[str, object]:
    clips = {
        f"{i:02x}/x": {"ja_start_ms": a, "ja_end_ms": b, "en_start_ms": a, "en_end_ms": b,
                       "score": score}
        for i, (a, b, score) in enumerate(spans)
    }  # fmt: skip
    return {"format": "dubset-dataset-quality/1", "clips": clips}


def test_correct_pairs_are_the_matched_ones_and_deciles_rank_by_score() -> None:
    truth = [ClipSpan(0, 1000, 0, 1000), ClipSpan(2000, 3000, 2000, 3000)]
    # Two right pairs scored high; a fused pair and a stray one scored low.
    doc = _doc([(0, 1000, 0.9), (2000, 3000, 0.8), (900, 3100, 0.2), (5000, 6000, 0.3)])
    row = quality_row("q.json", truth, doc)
    assert row.correct == (True, True, False, False)
    assert row.mean(True) == pytest.approx(0.85) and row.mean(False) == pytest.approx(0.25)
    parts = deciles([row], bins=2)
    assert [(d.pairs, d.correct) for d in parts] == [(2, 0), (2, 2)]
    assert (parts[0].low, parts[1].high) == (0.2, 0.9)
    text = "\n".join(quality_lines([row]))
    assert "correct pairs 0.850, wrong pairs 0.250 (2 of 4 correct)" in text
    assert quality_json(row)["correct"] == 2


def test_a_malformed_quality_fragment_is_refused() -> None:
    with pytest.raises(EvalInputError, match="spans and score"):
        quality_row("q", [], {"format": "dubset-dataset-quality/1", "clips": {"a": {"x": 1}}})
    with pytest.raises(EvalInputError, match="not a quality fragment"):
        quality_row("q", [], {"format": "other", "clips": {}})
    assert deciles([]) == []
