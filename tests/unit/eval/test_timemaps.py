"""Scoring a result's time map against the truth's."""

from __future__ import annotations

import pytest

from dubset_common.timemap import Piece, TimeMap
from dubset_eval.timemaps import result_map, score_map, truth_map

CARD = TimeMap((Piece(1500, 31500, 0, 30000), Piece(31500, 61500, 33000, 63000)))


def test_an_exact_map_scores_zero_and_an_offset_misses_the_card() -> None:
    exact = score_map(CARD, CARD)
    assert (exact.p50_ms, exact.p95_ms, exact.coverage, exact.pieces) == (0.0, 0.0, 1.0, 2)
    # The offset alone is right before the card and 3 s off after it (half the episode).
    offset_only = score_map(result_map({"ja_offset_ms": 1500}, 1500, CARD), CARD)
    assert offset_only.p95_ms == pytest.approx(3000)
    assert offset_only.coverage == pytest.approx(1.0)


def test_the_truth_map_defaults_to_the_constant_offset_and_needs_both_languages() -> None:
    plain = truth_map({}, 1500, {"ja": 61500, "en": 60000})
    assert plain is not None and plain.constant_offset_ms == 1500
    assert truth_map({}, 0, {"en": 60000}) is None
    given = truth_map({"time_map": CARD.to_json()}, 1500, {"ja": 61500, "en": 63000})
    assert given == CARD
