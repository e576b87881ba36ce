"""The JA-to-EN time map (pure): plain offsets, an inserted card, a PAL speed-up."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubset_sample.shapes import CARD_MS, PAL_TIME, EnTimeline, card_point, parse_shapes
from dubset_sample.shapes import ShapeError as ShapeErr
from dubset_sample.timemap import Piece, TimeMap, apply_map, inverse_map


def test_plain_map_is_one_piece_with_the_offset_and_the_longer_intro_alone() -> None:
    later_ja = TimeMap.plain(1500, 10_000)
    assert later_ja.pieces == (Piece(1500, 11_500, 0, 10_000),)
    assert later_ja.ja_only == ((0, 1500),) and later_ja.en_only == ()
    assert apply_map(later_ja, 4000) == 2500 and inverse_map(later_ja, 2500) == 4000
    assert apply_map(later_ja, 700) is None  # the JA-only intro
    later_en = TimeMap.plain(-700, 10_000)
    assert later_en.pieces == (Piece(0, 10_000, 700, 10_700),)
    assert later_en.en_only == ((0, 700),) and later_en.ja_only == ()
    assert inverse_map(later_en, 300) is None
    assert TimeMap.plain(0, 5000).to_json() == {
        "pieces": [{"ja_start_ms": 0, "ja_end_ms": 5000, "en_start_ms": 0, "en_end_ms": 5000}],
        "ja_only": [],
        "en_only": [],
    }


def test_an_inserted_card_splits_the_piece_and_shifts_what_follows() -> None:
    shaped = TimeMap.plain(1000, 20_000).insert_en(8000, CARD_MS)
    assert shaped.pieces == (Piece(1000, 9000, 0, 8000), Piece(9000, 21_000, 11_000, 23_000))
    assert shaped.en_only == ((8000, 11_000),)
    assert shaped.apply_map(5000) == 4000 and shaped.apply_map(10_000) == 12_000
    assert shaped.inverse_map(9000) is None  # the card is in the EN release alone
    assert shaped.inverse_map(12_000) == 10_000


def test_pal_scales_en_times_by_24000_over_25025() -> None:
    shaped = TimeMap.plain(0, 25_025).scale_en(PAL_TIME)
    assert shaped.pieces == (Piece(0, 25_025, 0, 24_000),)
    assert shaped.apply_map(25_025) == 24_000
    assert shaped.apply_map(1001) == pytest.approx(960)


def test_extrapolation_uses_the_nearest_piece() -> None:
    tm = TimeMap.plain(1500, 10_000)
    assert tm.apply_map(500) is None
    assert tm.apply_map(500, extrapolate=True) == -1000
    assert tm.inverse_map(12_000, extrapolate=True) == 13_500


def test_json_round_trip_and_the_plain_fallback_of_a_truth_without_time_map() -> None:
    tm = TimeMap.plain(-700, 9000).insert_en(4000, CARD_MS).scale_en(PAL_TIME)
    assert TimeMap.from_json(tm.to_json()) == tm
    assert TimeMap.from_truth({"time_map": tm.to_json()}) == tm
    truth = {"ja_offset_ms": 1500, "duration_ms": {"ja": 13_500, "en": 12_000}}
    assert TimeMap.from_truth(truth) == TimeMap.plain(1500, 12_000)


def test_bad_maps_are_refused() -> None:
    with pytest.raises(ValueError):
        Piece(10, 10, 0, 5)
    with pytest.raises(ValueError):
        TimeMap(())
    with pytest.raises(ValueError):
        TimeMap((Piece(0, 100, 0, 100), Piece(50, 200, 100, 250)))


@given(
    offset=st.integers(-5000, 5000),
    program=st.integers(5000, 100_000),
    card=st.floats(0.05, 0.95),
    pal=st.booleans(),
    at=st.floats(0, 1),
)
def test_map_and_inverse_agree_and_en_follows_the_shaped_timeline(
    offset: int, program: int, card: float, pal: bool, at: float
) -> None:
    plain = TimeMap.plain(offset, program)
    card_at = max(0, -offset) + round(program * card)
    timeline = EnTimeline(card_at, "pal" if pal else None)
    shaped = timeline.time_map(plain)
    ja = max(0, offset) + round(program * at)
    en = shaped.apply_map(ja)
    assert en is not None
    back = shaped.inverse_map(en)
    assert back is not None and abs(back - ja) < 0.01
    # The truth's EN times (timeline(plain EN time), rounded) agree with the map within 1 ms.
    assert abs(en - timeline(ja - offset)) <= 1.0


def test_parse_shapes_accepts_repeats_and_commas_in_any_order() -> None:
    assert parse_shapes(["pal,card", "dual-mkv", "card"]) == ("dual-mkv", "card", "pal")
    assert parse_shapes([]) == ()
    with pytest.raises(ShapeErr, match="unknown --shape"):
        parse_shapes(["card,vhs"])
    with pytest.raises(ShapeErr, match="exclude"):
        parse_shapes(["pal", "pal-pitch"])


def test_the_card_goes_in_a_pause_no_clip_pair_spans_nearest_the_middle() -> None:
    speech = [(1000, 3000), (3100, 5000), (7000, 9000), (9400, 12_000)]
    # 3000-3100 is within the merge gap (one pair): the pauses are 5000-7000 and 9000-9400.
    assert card_point(speech, [], 14_000) == 6000
    assert card_point(speech, [6800], 14_000) == 6800  # a shot cut in the pause wins
    assert card_point(speech, [], 20_000) == 9200
    with pytest.raises(ShapeErr, match="pause"):
        card_point([(0, 1000)], [], 5000)
    assert Fraction(PAL_TIME) == Fraction(24000, 25025)
