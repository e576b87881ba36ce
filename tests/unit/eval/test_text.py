"""WER and CER against hand-computed cases, and the edit counts against a textbook DP."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_eval.text import (
    ErrorRate,
    cer,
    edit_counts,
    normalise_en,
    normalise_ja,
    number_words,
    wer,
)


def test_wer_one_substitution_one_deletion_over_six_words() -> None:
    # the cat sat on the mat / the cat sit on mat: sat->sit (S), second "the" dropped (D).
    r = wer("the cat sat on the mat", "the cat sit on mat")
    assert r == ErrorRate(n_ref=6, n_hyp=5, substitutions=1, deletions=1, insertions=0)
    assert r.rate == pytest.approx(2 / 6)


def test_wer_counts_insertions() -> None:
    r = wer("a b c", "a x b c d")
    assert (r.substitutions, r.deletions, r.insertions) == (0, 0, 2)
    assert r.rate == pytest.approx(2 / 3)


def test_wer_ignores_case_punctuation_and_number_spelling() -> None:
    assert wer("I have three apples, Aoi!", "i have 3 apples aoi").errors == 0
    assert wer("It's twenty-one o'clock.", "its 21 oclock").errors == 0
    assert wer("50% of 1,000", "fifty percent of one thousand").errors == 0


def test_cer_japanese_two_substitutions_one_insertion_over_nine_characters() -> None:
    # 今日は良い天気です (9 characters after the 。 goes) / 今日は悪い天気でした:
    # 良->悪 (S), す->し (S), た inserted (I): 3 / 9.
    r = cer("今日は良い天気です。", "今日は悪い天気でした")
    assert r == ErrorRate(n_ref=9, n_hyp=10, substitutions=2, deletions=0, insertions=1)
    assert r.rate == pytest.approx(1 / 3)


def test_cer_ignores_width_spaces_and_punctuation() -> None:
    assert cer("ＡＢＣ、１２３！「ねえ」", "abc 123 ねえ").errors == 0


def test_clip_texts_score_the_same_with_or_without_their_punctuation() -> None:
    # Clip texts keep the recogniser's punctuation (and, in Japanese, a space where it wrote
    # none); scoring must not change with it. Each hypothesis has one error in the words.
    en_ref = "Time always flies when I'm with you. Just forget about me."
    punctuated = wer(en_ref, "Time always flies when I'm with you. Just forget about him!")
    bare = wer(en_ref, "time always flies when im with you just forget about him")
    assert punctuated == bare and punctuated.errors == 1
    ja_ref = "信じられない、雪が降ってる！本当？"
    punctuated = cer(ja_ref, "信じられない、雨が降ってる！本当？")
    spaced = cer(ja_ref, "信じられない 雨が降ってる 本当")
    assert punctuated == spaced == cer(ja_ref, "信じられない雨が降ってる本当")
    assert punctuated.errors == 1


_EN_WORDS = st.lists(st.sampled_from(["time", "flies", "you", "just", "me", "im"]), max_size=10)
_JA_CHARS = st.lists(st.sampled_from(list("時間が過ぎるね私")), max_size=12)


@settings(max_examples=100, deadline=None)
@given(_EN_WORDS, _EN_WORDS, st.data())
def test_wer_is_blind_to_sentence_punctuation_and_case(
    ref: list[str], hyp: list[str], data: st.DataObject
) -> None:
    marks = st.sampled_from([" ", ". ", ", ", "? ", "! ", "... "])
    punctuated = "".join(w.capitalize() + data.draw(marks) for w in hyp)
    assert wer(" ".join(ref), punctuated) == wer(" ".join(ref), " ".join(hyp))


@settings(max_examples=100, deadline=None)
@given(_JA_CHARS, _JA_CHARS, st.data())
def test_cer_is_blind_to_japanese_punctuation_and_spaces(
    ref: list[str], hyp: list[str], data: st.DataObject
) -> None:
    marks = st.sampled_from(["", " ", "\u3000", "。", "、", "！", "？", "…"])
    punctuated = "".join(c + data.draw(marks) for c in hyp)
    assert cer("".join(ref), punctuated) == cer("".join(ref), "".join(hyp))


def test_normalise_en() -> None:
    words = "dont panic the twenty first of may two point five times and zero zero seven"
    assert normalise_en("Don't panic: the 21st of May, 2.5 times & 007!") == words.split(" ")


def test_normalise_ja_keeps_the_long_vowel_mark() -> None:
    assert normalise_ja("ラーメン〜♪ です。") == list("ラーメンです")


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (101, "one hundred one"),
        (1999, "one thousand nine hundred ninety nine"),
        (2_000_005, "two million five"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


def test_empty_reference_has_no_rate() -> None:
    assert edit_counts([], ["a"]) == ErrorRate(0, 1, 0, 0, 1)
    assert edit_counts([], []).rate is None
    assert edit_counts(["a", "b"], []) == ErrorRate(2, 0, 0, 2, 0)


def test_among_equal_cost_alignments_substitutions_win() -> None:
    # "b a" -> "a b" costs 2 either as two substitutions or as a deletion plus an insertion.
    assert edit_counts(["b", "a"], ["a", "b"]) == ErrorRate(2, 2, 2, 0, 0)


def _textbook(ref: list[str], hyp: list[str]) -> tuple[int, int, int]:
    """Full-matrix DP over (errors, -substitutions), then a backtrace."""
    n, m = len(ref), len(hyp)
    best = [[(0, 0, 0, 0)] * (m + 1) for _ in range(n + 1)]  # (errors, -S, D, I)
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            options = []
            if i and j:
                e, s, d, ins = best[i - 1][j - 1]
                same = ref[i - 1] == hyp[j - 1]
                options.append((e + (not same), s - (not same), d, ins))
            if i:
                e, s, d, ins = best[i - 1][j]
                options.append((e + 1, s, d + 1, ins))
            if j:
                e, s, d, ins = best[i][j - 1]
                options.append((e + 1, s, d, ins + 1))
            best[i][j] = min(options)
    e, s, d, ins = best[n][m]
    return -s, d, ins


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from("abcd"), max_size=12),
    st.lists(st.sampled_from("abcd"), max_size=12),
)
def test_edit_counts_agree_with_the_textbook_dp(ref: list[str], hyp: list[str]) -> None:
    r = edit_counts(ref, hyp)
    s, d, i = _textbook(ref, hyp)
    assert (r.substitutions, r.errors) == (s, s + d + i)
    assert r.n_ref - r.deletions + r.insertions == len(hyp)
