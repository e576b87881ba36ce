"""Clips packed into shared recognition windows, and each word heard sent back to its clip."""

from __future__ import annotations

import numpy as np
import pytest
from dubset_quality.core.model import Pair
from dubset_quality.core.packing import HeardWord, Placed, Window, assign, pack
from dubset_quality.core.signals import FloatArray
from dubset_quality.measure import recognize


def test_clips_share_windows_in_order_with_a_gap_before_each() -> None:
    windows = pack([3_000, 5_000, 20_000, 4_000], max_ms=28_000, gap_ms=1_000)
    assert windows == [
        Window((Placed(0, 0, 3_000), Placed(1, 4_000, 5_000))),
        Window((Placed(2, 0, 20_000), Placed(3, 21_000, 4_000))),
    ]
    assert [w.length_ms for w in windows] == [9_000, 25_000]


def test_a_clip_longer_than_a_window_has_one_of_its_own() -> None:
    windows = pack([2_000, 40_000, 2_000], max_ms=28_000, gap_ms=1_000)
    assert [[p.clip for p in w.clips] for w in windows] == [[0], [1], [2]]


def test_lengths_must_be_positive() -> None:
    with pytest.raises(ValueError):
        pack([1_000, 0])


def test_each_word_goes_to_the_clip_under_its_middle_or_the_nearest() -> None:
    window = Window((Placed(0, 0, 3_000), Placed(1, 4_000, 2_000)))
    words = [
        HeardWord(100, 900, "go"),
        HeardWord(2_800, 3_400, "home"),  # middle 3100: in the gap, nearer clip 0
        HeardWord(3_700, 4_300, "stay"),  # middle 4000: clip 1 starts there
        HeardWord(6_500, 7_000, "here"),  # past the window's last clip
    ]
    assert assign(words, window) == {0: ["go", "home"], 1: ["stay", "here"]}


class _Stem:
    """A stem whose samples say the second they were cut from (its level)."""

    def window(self, start_ms: int, end_ms: int) -> FloatArray:
        return np.full((end_ms - start_ms) * 16, start_ms / 100_000, dtype=np.float32)


class _Recognizer:
    """Hears one word per clip-sized stretch of sound, named after the stretch's level."""

    name = "fake"

    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[int] = []
        self.refuse = refuse

    def words(self, samples: FloatArray, language: str) -> list[HeardWord] | None:
        self.calls.append(samples.size)
        if self.refuse:
            return None
        loud = np.flatnonzero(samples > 0)
        runs = np.split(loud, np.flatnonzero(np.diff(loud) > 1) + 1)
        return [HeardWord(r[0] // 16, r[-1] // 16, f"w{samples[r[0]]:.2f}") for r in runs]


def _pair(start_ms: int, end_ms: int, en_text: str = "text") -> Pair:
    return Pair("j", "e", "テキスト", en_text, start_ms, end_ms, start_ms, end_ms)


def test_recognize_packs_an_episodes_clips_and_gives_each_its_words() -> None:
    pairs = [_pair(10_000, 12_000), _pair(20_000, 23_000, en_text=" "), _pair(30_000, 32_000)]
    recognizer = _Recognizer()
    heard = recognize(pairs, "en", _Stem(), recognizer, lambda f, m: None)  # type: ignore[arg-type]
    assert recognizer.calls == [(2_000 + 1_000 + 2_000) * 16]  # one window, untexted clip left out
    assert heard == {0: "w0.10", 2: "w0.30"}


def test_a_refused_window_leaves_its_clips_without_a_hearing() -> None:
    pairs = [_pair(10_000, 12_000), _pair(30_000, 32_000)]
    heard = recognize(pairs, "en", _Stem(), _Recognizer(refuse=True), lambda f, m: None)  # type: ignore[arg-type]
    assert heard == {0: None, 1: None}
