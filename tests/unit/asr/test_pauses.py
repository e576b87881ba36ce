"""A recogniser segment that runs over several utterances is cut where its words pause."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dubset_asr.core.model import RawWord
from dubset_asr.core.words import split_at_pauses


def _words(spec: list[tuple[str, float, float]]) -> list[RawWord]:
    return [RawWord(text, start, end, 0.9) for text, start, end in spec]


def _texts(parts: list[list[RawWord]]) -> list[str]:
    return ["".join(w.text for w in part).strip() for part in parts]


def test_whisper_joining_two_lines_across_a_long_silence_is_cut_there() -> None:
    # Measured on a generated episode: Whisper gave these two lines as one segment.
    words = _words(
        [
            (" Please,", 21.26, 21.46),
            (" I'm", 21.58, 22.0),
            (" begging", 22.0, 22.2),
            (" you.", 22.2, 22.5),
            (" How", 26.04, 26.52),
            (" are", 26.52, 26.62),
            (" you?", 26.62, 26.8),
        ]
    )
    assert _texts(split_at_pauses(words)) == ["Please, I'm begging you.", "How are you?"]


def test_a_short_pause_splits_only_behind_a_sentence_end() -> None:
    words = _words(
        [(" hot.", 8.48, 8.84), (" I'm", 9.04, 9.24), (" so", 9.44, 9.6), (" tired", 9.6, 9.9)]
    )
    # 200 ms after "hot." splits; 200 ms after "I'm" does not.
    assert _texts(split_at_pauses(words)) == ["hot.", "I'm so tired"]


def test_japanese_punctuation_counts_as_a_sentence_end() -> None:
    words = _words([("待って。", 15.2, 15.6), ("この", 15.8, 16.0), ("まま", 16.0, 16.2)])
    assert _texts(split_at_pauses(words)) == ["待って。", "このまま"]


def test_blank_words_never_start_or_end_a_cut() -> None:
    words = _words([(" a", 0.0, 0.1), (" ", 0.1, 2.0), (" b", 2.1, 2.2)])
    assert [len(p) for p in split_at_pauses(words)] == [2, 1]


@given(
    st.lists(
        st.tuples(st.sampled_from([" a", " b.", "c", " "]), st.integers(0, 2000)),
        max_size=30,
    )
)
def test_cutting_keeps_every_word_in_order(spec: list[tuple[str, int]]) -> None:
    t = 0.0
    words = []
    for text, gap in spec:
        t += gap / 1000
        words.append(RawWord(text, t, t + 0.1, 1.0))
        t += 0.1
    parts = split_at_pauses(words)
    assert [w for part in parts for w in part] == words
    assert all(parts)
