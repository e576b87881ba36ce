"""Alignment across a time map: merging piece by piece, one-sided speech unpaired."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dubset_alignment.core.align import align
from dubset_alignment.core.mapped import align_mapped
from dubset_alignment.core.model import Segment
from dubset_common.timemap import Piece, TimeMap

# EN has a 3 s card at EN 10000..13000; JA = EN + 1500 before it, EN - 1500 after it.
CARD = TimeMap(
    (Piece(1500, 11500, 0, 10000), Piece(11500, 31500, 13000, 33000)),
    ja_only=((0, 1500),),
    en_only=((10000, 13000),),
)


def test_a_card_in_the_dub_moves_the_pairs_after_it() -> None:
    en = [
        Segment(2000, 4000, "Hello."),
        Segment(15000, 17000, "After."),
        Segment(11000, 12000, "Card!"),
    ]
    ja = [Segment(3500, 5500, "こんにちは。"), Segment(13500, 15500, "後で。")]
    al = align_mapped(en, ja, 125, CARD)
    spans = [(c.start_ms, c.end_ms, c.ja_start_ms, c.ja_end_ms, c.en, c.ja) for c in al.clips]
    assert spans == [(2000, 4000, 3500, 5500, (0,), (0,)), (15000, 17000, 13500, 15500, (1,), (1,))]
    assert al.one_sided_en == (2,) and al.unpaired_en == (2,)
    assert al.one_sided_ja == ()


def test_segments_either_side_of_a_break_never_merge() -> None:
    # EN speech right up to the card and JA speech right after the break: 125 ms apart on a
    # naive timeline, but in different pieces.
    en = [Segment(9000, 9990, "Before."), Segment(13010, 14000, "After.")]
    ja = [Segment(10500, 11490, "前。"), Segment(11510, 12500, "後。")]
    al = align_mapped(en, ja, 125, CARD)
    assert [(c.en, c.ja) for c in al.clips] == [((0,), (0,)), ((1,), (1,))]
    for c in al.clips:
        piece = CARD.pieces[CARD.piece_of_en(c.start_ms)]  # type: ignore[index]
        assert piece.holds_en(c.start_ms) and c.end_ms <= piece.en_end_ms
        assert piece.ja_start_ms <= c.ja_start_ms and c.ja_end_ms <= piece.ja_end_ms


def test_a_pal_speed_up_maps_ja_through_the_ratio() -> None:
    pal = TimeMap((Piece(0, 100_000, 0, 95_904),))  # EN runs 25/23.976 fast
    en = [Segment(47952, 49870)]
    ja = [Segment(50000, 52000)]
    (clip,) = align_mapped(en, ja, 125, pal).clips
    assert (clip.start_ms, clip.end_ms) == (47952, 49870)
    assert (clip.ja_start_ms, clip.ja_end_ms) == (50000, 52000)


segment = st.builds(
    lambda s, d: Segment(s, s + d, "x"), st.integers(0, 60_000), st.integers(0, 3000)
)


@given(st.lists(segment, max_size=12), st.lists(segment, max_size=12), st.integers(-5000, 5000))
def test_one_constant_piece_is_the_offset_rule(
    en: list[Segment], ja: list[Segment], offset: int
) -> None:
    whole = TimeMap((Piece(10**6 + offset, 3 * 10**6 + offset, 10**6, 3 * 10**6),))
    shifted_en = [Segment(s.start_ms + 10**6, s.end_ms + 10**6, s.text) for s in en]
    shifted_ja = [
        Segment(s.start_ms + 10**6 + offset, s.end_ms + 10**6 + offset, s.text) for s in ja
    ]
    mapped = align_mapped(shifted_en, shifted_ja, 125, whole)
    plain = align(shifted_en, shifted_ja, 125, offset)
    assert mapped.clips == plain.clips
    assert (mapped.unpaired_en, mapped.unpaired_ja) == (plain.unpaired_en, plain.unpaired_ja)
