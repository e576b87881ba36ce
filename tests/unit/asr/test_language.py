"""The language check's verdict: refuse only a track most parts of which confidently sound
like one other language."""

from __future__ import annotations

from dubset_asr.core.language import LanguageVote, wrong_language

EN = LanguageVote("en", 0.97, 0.001)
JA = LanguageVote("ja", 0.95, 0.95)
UNSURE_EN = LanguageVote("en", 0.6, 0.2)


def test_a_track_that_sounds_like_its_language_passes() -> None:
    assert wrong_language("ja", [JA, JA, JA]) is None


def test_a_track_that_confidently_sounds_like_another_language_is_refused() -> None:
    reason = wrong_language("ja", [EN, EN, JA])
    assert reason is not None
    assert "ja track does not sound Japanese" in reason and "'en'" in reason
    assert "2 of 3 parts" in reason and "swapped" in reason


def test_an_opening_song_in_another_language_is_not_enough() -> None:
    # An English dub's Japanese opening song: one part of three.
    assert wrong_language("en", [LanguageVote("ja", 0.99, 0.0), EN, EN]) is None
    assert wrong_language("en", [LanguageVote("ja", 0.99, 0.0), EN]) is None  # half is not most


def test_unsure_votes_and_no_speech_never_refuse() -> None:
    assert wrong_language("ja", [UNSURE_EN, UNSURE_EN]) is None
    assert wrong_language("ja", [LanguageVote("en", 0.9, 0.1)]) is None  # ja still plausible
    assert wrong_language("ja", []) is None
