"""The alignment rule on hand-made cases a reader can check by eye."""

from __future__ import annotations

import math

import pytest

from dubset_alignment.core.align import align
from dubset_alignment.core.model import AlignmentInputError, Segment


def seg(start: int, end: int, text: str = "") -> Segment:
    return Segment(start, end, text)


def test_overlapping_pair_becomes_one_clip_spanning_both() -> None:
    al = align([seg(1000, 2000, "hi")], [seg(900, 1800, "やあ")])
    assert len(al.clips) == 1
    clip = al.clips[0]
    assert (clip.start_ms, clip.end_ms) == (900, 2000)
    assert (clip.en, clip.ja) == ((0,), (0,))
    assert (clip.en_text, clip.ja_text) == ("hi", "やあ")


@pytest.mark.parametrize(("gap", "merged"), [(124, True), (125, True), (126, False)])
def test_gap_of_125_ms_is_inclusive(gap: int, merged: bool) -> None:
    al = align([seg(0, 1000)], [seg(1000 + gap, 2000)])
    assert (len(al.clips) == 1) is merged
    if not merged:
        assert al.unpaired_en == (0,) and al.unpaired_ja == (0,)


def test_max_gap_is_a_parameter() -> None:
    assert len(align([seg(0, 1000)], [seg(1300, 2000)], max_gap_ms=300).clips) == 1
    assert len(align([seg(0, 1000)], [seg(1301, 2000)], max_gap_ms=300).clips) == 0


def test_merging_is_transitive_across_languages_and_within_one() -> None:
    # EN0 - JA0 - EN1 - JA1 chained by 100 ms gaps, each only touching its neighbour.
    en = [seg(0, 1000, "a"), seg(2200, 3000, "c")]
    ja = [seg(1100, 2100, "待って、"), seg(3100, 4000, "このまま。")]
    al = align(en, ja)
    assert len(al.clips) == 1
    assert al.clips[0].en == (0, 1) and al.clips[0].ja == (0, 1)
    assert (al.clips[0].start_ms, al.clips[0].end_ms) == (0, 4000)
    assert al.clips[0].en_text == "a c" and al.clips[0].ja_text == "待って、このまま。"


def test_two_english_sentences_in_a_clip_keep_their_punctuation_and_case() -> None:
    en = [seg(3192, 4980, "Time always flies when I'm with you."), seg(5040, 7560, "Just go!")]
    al = align(en, [seg(3192, 8170, "一緒にいると、時間があっという間に過ぎるね。")])
    assert al.clips[0].en_text == "Time always flies when I'm with you. Just go!"


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        ("過ぎるね。", "私のことは、", "過ぎるね。私のことは、"),
        ("反忍は、", "この部屋の中にいる！", "反忍は、この部屋の中にいる！"),
        ("本当？", "うん", "本当？うん"),
        ("えっ", "「はい」", "えっ「はい」"),
        # Whisper left both without 。: a space (its own mark) keeps them two sentences.
        ("私は全然だめかも", "ただいま", "私は全然だめかも ただいま"),
    ],
)
def test_japanese_segments_join_directly_after_punctuation_else_with_a_space(
    first: str, second: str, joined: str
) -> None:
    al = align([seg(1000, 5000, "Hi.")], [seg(1000, 2000, first), seg(2100, 3000, second)])
    assert al.clips[0].ja_text == joined


def test_same_language_chain_bridges_to_the_other_language() -> None:
    # EN0 and EN1 are 50 ms apart; only EN1 is near JA0: all three are one clip.
    al = align([seg(0, 500), seg(550, 1000)], [seg(1100, 1500)])
    assert al.clips[0].en == (0, 1) and al.clips[0].ja == (0,)


def test_single_language_groups_are_unpaired_not_clips() -> None:
    al = align([seg(0, 500), seg(560, 900), seg(5000, 6000)], [seg(5100, 5900)])
    assert al.unpaired_en == (0, 1)
    assert al.unpaired_ja == ()
    assert len(al.clips) == 1 and al.clips[0].en == (2,)


def test_a_long_segment_swallows_those_inside_it() -> None:
    al = align([seg(0, 10_000)], [seg(100, 200), seg(9_000, 9_500)])
    assert al.clips[0].ja == (0, 1) and al.clips[0].end_ms == 10_000


def test_offset_maps_ja_onto_en_timeline() -> None:
    # JA video runs 30 s ahead: JA 31000 is EN 1000.
    al = align([seg(1000, 2000)], [seg(31_000, 32_000)], ja_offset_ms=30_000)
    clip = al.clips[0]
    assert (clip.start_ms, clip.end_ms) == (1000, 2000)
    assert (clip.ja_start_ms, clip.ja_end_ms) == (31_000, 32_000)
    assert align([seg(1000, 2000)], [seg(31_000, 32_000)]).clips == ()


def test_negative_offset() -> None:
    al = align([seg(5000, 6000)], [seg(3500, 4500)], ja_offset_ms=-1500)
    assert al.clips[0].ja_start_ms == 3500 and al.clips[0].start_ms == 5000


def test_unsorted_input_gives_the_same_groups_and_time_ordered_texts() -> None:
    en = [seg(3000, 4000, "second"), seg(0, 1000, "first")]
    ja = [seg(3050, 3900, "二"), seg(50, 900, "一")]
    al = align(en, ja)
    assert [c.en for c in al.clips] == [(1,), (0,)]
    assert [c.en_text for c in al.clips] == ["first", "second"]
    assert [c.ja_text for c in al.clips] == ["一", "二"]


def test_texts_joined_in_time_order_not_index_order() -> None:
    al = align([seg(600, 900, "world"), seg(0, 500, "hello")], [seg(0, 900, "こんにちは")])
    assert al.clips[0].en_text == "hello world"


def test_empty_inputs() -> None:
    al = align([], [])
    assert al.clips == () and al.unpaired_en == () and al.unpaired_ja == ()
    assert align([seg(0, 1)], []).unpaired_en == (0,)


def test_zero_length_segments_are_accepted() -> None:
    assert len(align([seg(100, 100)], [seg(100, 100)]).clips) == 1


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Segment(2000, 1000), "end_ms 1000 < start_ms 2000"),
        (Segment(-5, 1000), "negative"),
        (Segment(math.nan, 1000), "NaN"),  # type: ignore[arg-type]
        (Segment(1.5, 1000), "integer"),  # type: ignore[arg-type]
        (Segment(True, 1000), "integer"),  # type: ignore[arg-type]
        (Segment(0, 1000, None), "text"),  # type: ignore[arg-type]
        ("not a segment", "not a segment"),
    ],
)
def test_bad_segments_are_rejected_with_a_clear_error(bad: Segment, message: str) -> None:
    with pytest.raises(AlignmentInputError, match=message):
        align([seg(0, 10)], [bad])


def test_error_names_the_language_and_index() -> None:
    with pytest.raises(AlignmentInputError, match="ja segment 1"):
        align([], [seg(0, 1), seg(5, 2)])


def test_negative_gap_rejected() -> None:
    with pytest.raises(AlignmentInputError, match="max_gap_ms"):
        align([], [], max_gap_ms=-1)
