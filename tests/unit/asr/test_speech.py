"""Segments recut on a speech/silence map: one segment per line, edges on the speech."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from dubset_asr.core.model import RawWord, Segment, Word
from dubset_asr.core.speech import (
    SpeechConfig,
    end_on_speech,
    resegment,
    speech_intervals,
    speech_regions,
)
from dubset_asr.core.words import build_segment


def _segment(spec: list[tuple[str, float, float]]) -> Segment:
    seg = build_segment([RawWord(t, s, e, 0.9) for t, s, e in spec])
    assert seg is not None
    return seg


def _spans(segments: tuple[Segment, ...]) -> list[tuple[int, int, str]]:
    return [(s.start_ms, s.end_ms, s.text) for s in segments]


def test_probabilities_become_speech_with_hysteresis_and_no_clicks() -> None:
    probs = [0.1, 0.6, 0.4, 0.4, 0.2, 0.1, 0.9, 0.1, 0.1, 0.7, 0.8]
    # 0.4 stays speech after 0.6 (above offset 0.35); one 32 ms frame at 0.9 is a click
    assert speech_intervals(probs, 32, 400, SpeechConfig(min_speech_ms=64)) == [
        (32, 128),
        (288, 352),
    ]


def test_short_silences_do_not_separate_regions() -> None:
    speech = [(0, 1000), (1150, 2000), (2300, 3000)]
    assert speech_regions(speech, 200) == [(0, 2000), (2300, 3000)]


def test_a_stretched_word_over_the_silence_between_lines_goes_to_the_line_it_speaks() -> None:
    # Measured: line A ends 12442 ms, line B starts 14239 ms, Whisper's "no" spans 13580-14560.
    seg = _segment(
        [
            (" I", 11.6, 11.8),
            (" said", 11.8, 12.4),
            (" no,", 13.58, 14.56),
            (" never.", 14.56, 15.1),
        ]
    )
    out = resegment([seg], [(11580, 12442), (14239, 15080)], "en", 20_000)
    # each line ends where its speech does, less the map's lag (end_offset_ms, -60 for EN)
    assert _spans(out) == [(11600, 12382, "I said"), (14199, 15020, "no, never.")]


def test_japanese_lines_half_a_second_apart_become_two_segments() -> None:
    chars = [(c, 1.0 + 0.1 * i, 1.1 + 0.1 * i) for i, c in enumerate("時間が過ぎるね、")]
    chars += [(c, 1.8 + 0.1 * i, 1.9 + 0.1 * i) for i, c in enumerate("私を忘れて。")]
    seg = _segment(chars)
    out = resegment([seg], [(1000, 1750), (2250, 2400)], "ja", 5_000)
    assert [s.text for s in out] == ["時間が過ぎるね、", "私を忘れて。"]


def test_a_segment_starts_at_the_speech_not_in_the_silence_before_it() -> None:
    seg = _segment([(" Wait", 2.0, 3.4), (" here.", 3.4, 3.8)])
    (out,) = resegment([seg], [(3000, 3800)], "en", 10_000)
    assert (out.start_ms, out.end_ms) == (2960, 3740)
    assert out.words[0].start_ms == 2960


def test_words_far_from_any_speech_keep_their_times() -> None:
    seg = _segment([(" whisper", 5.0, 5.4), (" quietly", 5.4, 5.9)])
    (out,) = resegment([seg], [(0, 1000)], "en", 10_000)
    assert (out.start_ms, out.end_ms, out.text) == (5000, 5900, "whisper quietly")


def test_no_speech_map_keeps_segments_but_removes_overlap() -> None:
    a = _segment([(" one", 1.0, 2.5)])
    b = _segment([(" two", 2.0, 3.0)])
    assert _spans(resegment([a, b], [], "en", 10_000)) == [
        (1000, 2500, "one"),
        (2500, 3000, "two"),
    ]


def test_english_text_keeps_its_joins() -> None:
    seg = _segment([(" cold", 0.0, 0.3), ("-hearted", 0.3, 0.6), (" man", 2.0, 2.3)])
    out = resegment([seg], [(0, 600), (2000, 2300)], "en", 3_000)
    assert [s.text for s in out] == ["cold-hearted", "man"]


def test_english_sentences_keep_their_punctuation_and_case_whether_cut_or_not() -> None:
    spec = [(" Time", 3.19, 3.5), (" flies", 3.5, 3.9), (" with", 3.9, 4.2), (" you.", 4.2, 5.0)]
    spec += [(" Just", 6.33, 6.6), (" forget", 6.6, 7.0), (" me!", 7.0, 7.5)]
    seg = _segment(spec)
    cut = resegment([seg], [(3190, 5000), (6330, 7500)], "en", 10_000)
    assert [s.text for s in cut] == ["Time flies with you.", "Just forget me!"]
    (whole,) = resegment([seg], [(3190, 7500)], "en", 10_000)
    assert whole.text == "Time flies with you. Just forget me!"


def test_japanese_punctuation_stays_through_the_cut() -> None:
    chars = [(c, 1.0 + 0.1 * i, 1.1 + 0.1 * i) for i, c in enumerate("信じられない、")]
    chars += [("雪が", 1.7, 1.9), ("降ってる！", 1.9, 2.3), ("本当？", 3.0, 3.4)]
    seg = _segment(chars)
    out = resegment([seg], [(1000, 2300), (3000, 3400)], "ja", 5_000)
    assert [s.text for s in out] == ["信じられない、雪が降ってる！", "本当？"]


def test_the_space_between_unpunctuated_japanese_sentences_stays_unless_cut_there() -> None:
    seg = _segment(
        [("だめ", 1.0, 1.3), ("かも", 1.3, 1.6), (" ただ", 1.8, 2.0), ("いま", 2.0, 2.3)]
    )
    (whole,) = resegment([seg], [(1000, 2300)], "ja", 5_000)
    assert whole.text == "だめかも ただいま"
    cut = resegment([seg], [(1000, 1600), (2100, 2300)], "ja", 5_000)
    assert [s.text for s in cut] == ["だめかも", "ただいま"]


_word = st.tuples(
    st.sampled_from([" a", " b.", "c", "私"]),
    st.integers(0, 1500),
    st.integers(0, 1200),
)


@given(
    st.lists(st.lists(_word, min_size=1, max_size=8), max_size=6),
    st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 2000)), max_size=12),
    st.sampled_from(["en", "ja"]),
    st.integers(0, 400),
)
def test_every_word_kept_once_in_order_without_overlap(
    specs: list[list[tuple[str, int, int]]],
    gaps: list[tuple[int, int]],
    language: str,
    min_silence: int,
) -> None:
    t = 0
    segments = []
    for spec in specs:
        raw = []
        for text, gap, length in spec:
            t += gap
            raw.append(RawWord(text, t / 1000, (t + length) / 1000, 0.5))
            t += length // 2  # words may overlap their neighbours, as recognisers' do
        segments.append(_segment([(w.text, w.start_s, w.end_s) for w in raw]))
    speech, at = [], 0
    for gap, length in gaps:
        speech.append((at + gap, at + gap + length))
        at += gap + length
    duration = t + 500
    config = SpeechConfig(min_silence_ms=min_silence)
    out = resegment(segments, speech, language, duration, config)
    assert [w.text for s in out for w in s.words] == [w.text for s in segments for w in s.words]
    last_end = 0
    for s in out:
        assert s.words and 0 <= last_end <= s.start_ms <= s.end_ms <= duration
        assert s.start_ms == s.words[0].start_ms
        assert s.end_ms == max(w.end_ms for w in s.words)
        assert s.text.replace(" ", "") == "".join(w.text for w in s.words)
        for w in s.words:
            assert s.start_ms <= w.start_ms <= w.end_ms <= s.end_ms
        last_end = s.end_ms


@given(st.lists(st.floats(0.0, 1.0), max_size=200), st.integers(0, 7000))
def test_speech_map_is_sorted_disjoint_and_inside_the_audio(
    probs: list[float], duration: int
) -> None:
    speech = speech_intervals(probs, 32, duration)
    assert all(0 <= s < e <= duration for s, e in speech)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(speech))


def _word_ends(segments: tuple[Segment, ...]) -> list[int]:
    return [w.end_ms for s in segments for w in s.words]


def test_a_line_ends_where_its_speech_ends_not_where_whisper_ends_its_last_word() -> None:
    # Whisper's "room." ends 150 ms before the voice does; the speech map runs on past it.
    seg = _segment([(" Clean", 1.0, 1.3), (" my", 1.3, 1.5), (" room.", 1.5, 1.85)])
    config = SpeechConfig(end_offset_ms=-40)
    out = resegment([seg], [(980, 2060)], "en", 5_000, config)  # Silero's tail: 40 ms
    assert _spans(out) == [(1000, 2020, "Clean my room.")]
    assert _word_ends(out) == [1300, 1500, 2020]


def test_a_line_end_never_passes_the_next_line_nor_the_audio() -> None:
    # Two lines in one stretch of speech (the gap between them too short to see).
    first = end_on_speech(
        [
            Segment(1000, 1500, "a", (Word(1000, 1500, "a", 0.9),)),
            Segment(1600, 2000, "b", (Word(1600, 2000, "b", 0.9),)),
        ],
        [(1000, 3000)],
        offset_ms=-40,
        duration_ms=2500,
    )
    assert [(s.start_ms, s.end_ms) for s in first] == [(1000, 1600), (1600, 2500)]


def test_a_late_word_end_is_pulled_back_to_the_speech_and_a_word_outside_speech_keeps_it() -> None:
    late = Segment(1000, 2100, "a", (Word(1000, 2100, "a", 0.9),))
    outside = Segment(5000, 5400, "b", (Word(5000, 5400, "b", 0.9),))
    out = end_on_speech([late, outside], [(1000, 2080)], offset_ms=-40)
    assert [(s.start_ms, s.end_ms) for s in out] == [(1000, 2040), (5000, 5400)]
    assert out[0].words[0].end_ms == 2040 and out[1] == outside


def test_a_line_end_never_reaches_back_to_its_last_words_start() -> None:
    # The word barely touches the stretch: the stretch's end less the lag would come before it.
    seg = Segment(1000, 1400, "a", (Word(1000, 1400, "a", 0.9),))
    assert end_on_speech([seg], [(500, 1030)], offset_ms=-70) == (seg,)


def test_the_end_follows_the_last_stretch_the_last_word_touches() -> None:
    # "room." spans a short dip in the speech map: the line ends after the second stretch.
    seg = Segment(1000, 1850, "room.", (Word(1000, 1850, "room.", 0.9),))
    (out,) = end_on_speech([seg], [(980, 1600), (1700, 2060)], offset_ms=-40)
    assert out.end_ms == 2020
