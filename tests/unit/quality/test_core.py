"""The quality stage's pure core: each signal, the score's rule, the filter's reasons and the
documents in and out."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dubset_quality.core.doc import (
    QUALITY_FORMAT,
    dumps,
    parse_episode_fragment,
    parse_turns,
    parse_words,
    quality_doc,
    rounded,
)
from dubset_quality.core.model import SIGNALS, Pair, QualityInputError, Turn, Word
from dubset_quality.core.score import FLOOR, score, sub_scores
from dubset_quality.core.signals import (
    SILENT_DB,
    agreement,
    duration_ratio,
    level_db,
    mean_confidence,
    music_db,
    overlap_share,
    tokens,
)

from dubset_common.clipquality import Thresholds, reasons

JP = "ab/ab019ebb-0000-5000-8000-000000000001"
EN = "cd/cd019ebb-0000-5000-8000-000000000002"


def test_overlap_counts_only_time_with_two_speakers() -> None:
    turns = [Turn(0, 600, "A"), Turn(400, 1000, "B")]
    assert overlap_share(turns, 0, 1000) == pytest.approx(0.2)
    assert overlap_share(turns, 500, 600) == 1.0
    assert overlap_share(turns, 700, 1000) == 0.0
    # One speaker's two turns touching is not an overlap.
    assert overlap_share([Turn(0, 500, "A"), Turn(300, 800, "A")], 0, 1000) == 0.0
    assert overlap_share([], 0, 1000) == 0.0
    assert overlap_share(turns, 10, 10) == 0.0


def test_confidence_is_the_mean_of_the_words_centred_in_the_span() -> None:
    words = [Word(0, 200, 0.9), Word(200, 400, 0.5), Word(900, 1100, 0.1)]
    assert mean_confidence(words, 0, 500) == pytest.approx(0.7)
    assert mean_confidence(words, 1050, 2000) is None  # the last word's middle is 1000


def test_agreement_is_one_minus_wer_or_cer() -> None:
    assert agreement("Time flies, doesn't it?", "time flies doesnt it", "en") == 1.0
    assert agreement("one two three four", "one two four", "en") == pytest.approx(0.75)
    assert agreement("時間が過ぎる。", "時間が過ぎた", "ja") == pytest.approx(1 - 1 / 6)
    assert agreement("a b", "x y z w v u", "en") == 0.0  # floored
    assert agreement("...", "anything", "en") is None
    assert tokens("私の、こと！", "ja") == ["私", "の", "こ", "と"]


def test_duration_ratio_and_levels() -> None:
    assert duration_ratio(3000, 1500) == 2.0
    with pytest.raises(ValueError):
        duration_ratio(0, 100)
    tone = (0.1 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    assert level_db(tone) == pytest.approx(20 * math.log10(0.1 / math.sqrt(2)), abs=0.05)
    assert level_db(np.zeros(100, np.float32)) == SILENT_DB
    assert music_db(tone, tone * 0.1) == pytest.approx(-20.0, abs=0.01)


def test_score_takes_the_worse_language_and_one_bad_signal_pulls_it_down() -> None:
    good = {"agreement_ja": 1.0, "agreement_en": 0.95, "confidence_ja": 0.9, "confidence_en": 0.9,
            "dnsmos_ja": 3.4, "dnsmos_en": 3.2, "overlap_ja": 0.0, "overlap_en": 0.0,
            "duration_ratio": 1.1, "music_db": -20.0}  # fmt: skip
    assert score(good) == 1.0
    garbled = good | {"agreement_en": 0.3}
    assert sub_scores(garbled)["agreement"] == 0.0
    assert score(garbled) == pytest.approx(FLOOR ** (1 / 6), abs=1e-3)
    fused = good | {"duration_ratio": 3.0}
    assert score(fused) < score(good | {"duration_ratio": 2.0}) < score(good)
    # Unmeasured signals are left out, not counted as bad.
    assert score({"duration_ratio": 1.0}) == 1.0
    assert score({}) == 1.0


def test_reasons_name_every_failed_threshold() -> None:
    q = {"score": 0.4, "dnsmos_ja": 2.1, "dnsmos_en": 3.0, "overlap_ja": 0.0, "overlap_en": 0.3,
         "duration_ratio": 0.25, "music_db": 2.0, "agreement_en": None}  # fmt: skip
    assert reasons(q, Thresholds()) == []
    assert not Thresholds().active
    got = reasons(
        q,
        Thresholds(
            min_quality=0.5,
            min_dnsmos=2.5,
            max_overlap=0.2,
            max_duration_ratio=3.0,
            max_music_db=0.0,
            min_agreement=0.8,
        ),
    )
    assert got == [
        "quality 0.400 < 0.5",
        "dnsmos_ja 2.100 < 2.5",
        "overlap_en 0.300 > 0.2",
        "duration ratio 0.250 beyond 3x",
        "music_db 2.000 > 0",
    ]


def _fragment(**clip: object) -> bytes:
    base = {"jp_clip": JP, "en_clip": EN, "jp_text": "こんにちは", "en_text": "Hello",
            "jp_start_time": "00:00:01.000", "jp_end_time": "00:00:02.500",
            "en_start_time": "00:00:01.200", "en_end_time": "00:00:02.200",
            "speakers": ["SPEAKER_00"]}  # fmt: skip
    doc = {"format": "dubset-dataset-episode/1", "episode_id": "show-e01",
           "episode": {"clips": [base | clip]}}  # fmt: skip
    return json.dumps(doc).encode()


def test_the_episode_fragment_gives_the_pairs() -> None:
    episode_id, pairs = parse_episode_fragment(_fragment())
    assert episode_id == "show-e01"
    assert pairs == [Pair(JP, EN, "こんにちは", "Hello", 1000, 2500, 1200, 2200)]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"[]", "JSON object"),
        (b'{"format": "x"}', "format"),
        (_fragment(jp_clip="../x"), "clip ids"),
        (_fragment(en_end_time="00:00:01.000"), "ends before"),
        (_fragment(jp_start_time="soon"), "HH:MM:SS.mmm"),
        (_fragment(en_text=5), "strings"),
    ],
)
def test_a_bad_fragment_is_refused(data: bytes, says: str) -> None:
    with pytest.raises(QualityInputError, match=says):
        parse_episode_fragment(data)


def test_words_and_turns_are_parsed_and_checked() -> None:
    transcript = {"segments": [{"words": [{"start_ms": 0, "end_ms": 10, "confidence": 0.5}]}]}
    assert parse_words(json.dumps(transcript).encode(), "t") == [Word(0, 10, 0.5)]
    bad = {"segments": [{"words": [{"start_ms": 5, "end_ms": 1, "confidence": 0.5}]}]}
    with pytest.raises(QualityInputError, match="not a span"):
        parse_words(json.dumps(bad).encode(), "t")
    turns = {"turns": [{"start_ms": 0, "end_ms": 10, "speaker": "A"}]}
    assert parse_turns(json.dumps(turns).encode(), "t") == [Turn(0, 10, "A")]
    with pytest.raises(QualityInputError, match="speaker"):
        parse_turns(b'{"turns": [{"start_ms": 0, "end_ms": 1, "speaker": ""}]}', "t")


def test_the_quality_fragment_is_stable_bytes() -> None:
    _, pairs = parse_episode_fragment(_fragment())
    q = rounded({"dnsmos_ja": 3.14159, "duration_ratio": 1.5, "score": 0.9})
    assert list(q) == list(SIGNALS)
    assert q["dnsmos_ja"] == 3.142 and q["agreement_en"] is None
    doc = quality_doc("show-e01", "0" * 64, pairs, [q | {"score": 0.9}], "b", {"reasr": True})
    assert doc["format"] == QUALITY_FORMAT
    spans = {"ja_start_ms": 1000, "ja_end_ms": 2500, "en_start_ms": 1200, "en_end_ms": 2200}
    assert doc["clips"] == {JP: {"en_clip": EN, **spans, **q, "score": 0.9}}
    assert dumps(doc) == dumps(json.loads(dumps(doc)))
