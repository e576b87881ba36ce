"""One voice per character: distinct while voices last, optimal not greedy, pins kept."""

from __future__ import annotations

import pytest

from dubset_tts.core.casting import assign


def test_voices_are_distinct_and_the_assignment_is_optimal_not_greedy() -> None:
    # Greedy would give speaker 0 voice 0 (0.9) and leave speaker 1 with 0.1: 1.0 in all.
    sims = [[0.9, 0.8], [0.85, 0.1]]
    assert assign(sims, {}).voices == (1, 0)


def test_a_pinned_voice_is_kept_and_taken_from_the_others() -> None:
    sims = [[0.9, 0.2, 0.1], [0.8, 0.7, 0.1]]
    casting = assign(sims, {1: 0})
    assert casting.voices == (1, 0) and casting.shared == ()


def test_speakers_beyond_the_voices_share_and_it_is_said() -> None:
    sims = [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]  # the third (least speech) shares voice 0
    casting = assign(sims, {})
    assert casting.voices == (0, 1, 0) and casting.shared == (0,)


def test_equal_similarities_go_to_the_earlier_voice() -> None:
    assert assign([[0.0, 0.0, 0.0]], {}).voices == (0,)
    assert assign([[0.0, 0.0], [0.0, 0.0]], {}).voices == (0, 1)


def test_no_voices_is_an_error() -> None:
    with pytest.raises(ValueError, match="no voices"):
        assign([[]], {})


def test_two_speakers_alike_the_one_with_more_speech_gets_the_nearer_voice() -> None:
    assert assign([[0.9, 0.5], [0.9, 0.5]], {}).voices == (0, 1)
