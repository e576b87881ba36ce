"""The pure part of subtitle alignment: cue windows, edges on the speech map, checks, settling."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_asr.core.cuefit import (
    ALIGNED,
    CUE,
    Fitted,
    cue_segment,
    cue_windows,
    degenerate_reason,
    fit_edges,
    fit_end,
    fit_start,
    settle,
    with_edges,
)
from dubset_asr.core.model import Segment, Word


def seg(*spans: tuple[int, int], text: str = "w") -> Segment:
    words = tuple(Word(a, b, text, 0.9) for a, b in spans)
    return Segment(spans[0][0], max(b for _a, b in spans), " ".join(text for _ in spans), words)


def test_windows_widen_cues_within_the_audio_and_stop_between_neighbours() -> None:
    cues = [(500, 2000), (2600, 4000), (3800, 6000), (9000, 9900)]
    assert cue_windows(cues, 10_000, 1000) == [
        (0, 2300),  # the audio's start; the middle of the 600 ms gap to the next cue
        (2300, 4000),  # the next cue overlaps: the window keeps to its own cue's end
        (3800, 7000),  # and this one to its own start
        (8000, 10_000),  # the audio's end
    ]
    assert cue_windows([(12_000, 13_000)], 10_000, 1000) == [(10_000, 10_000)]
    # at most max_ms: the padding shrinks evenly, then a cue too long loses its end
    assert cue_windows([(5000, 33_000)], 60_000, 1000, 30_000) == [(4000, 34_000)]
    assert cue_windows([(5000, 34_000)], 60_000, 1000, 30_000) == [(4500, 34_500)]
    assert cue_windows([(5000, 40_000)], 60_000, 1000, 30_000) == [(5000, 35_000)]


@pytest.mark.parametrize(
    ("first", "speech", "start"),
    [
        ((1000, 2000), [(1700, 2600)], 1680),  # stretched back over silence: moves to the onset
        ((1800, 2000), [(1700, 2600)], 1680),  # starts a little late: moves back to the onset
        ((3000, 3300), [(1000, 4000)], 3000),  # speech since long before: another line's
        ((1000, 1200), [(3000, 4000)], 1000),  # no speech under the word
        ((900, 1900), [(1000, 1300), (1500, 2500)], 980),  # ends in the next word's speech
        ((1300, 2000), [(200, 1350), (1700, 2500)], 1680),  # the line before ends in the word
        ((1500, 1900), [(1000, 1600), (1650, 2500)], 980),  # a split run joined (50 ms gap)
        ((10, 300), [(0, 400)], 0),  # never before the audio
    ],
)
def test_start_on_the_onset_of_the_first_words_speech(
    first: tuple[int, int], speech: list[tuple[int, int]], start: int
) -> None:
    assert fit_start(Word(*first, "w", 1.0), speech) == start


@pytest.mark.parametrize(
    ("last", "speech", "end"),
    [
        ((5000, 5200), [(4000, 5450)], 5450),  # ends early: moves to the offset
        ((5000, 5600), [(4000, 5450)], 5450),  # runs on over silence: back to the offset
        ((5000, 5200), [(4000, 5250), (5300, 5500)], 5500),  # a soft tail split off, joined
        ((5000, 5200), [(4000, 7000)], 5200),  # speech runs on: the next line's
        ((5000, 5200), [(6000, 7000)], 5200),  # no speech under the word
        ((5000, 5600), [(4000, 5100), (5200, 5400), (5900, 6500)], 5400),  # runs in the word
    ],
)
def test_end_on_the_offset_of_the_last_words_speech(
    last: tuple[int, int], speech: list[tuple[int, int]], end: int
) -> None:
    assert fit_end(Word(*last, "w", 1.0), speech) == end


def test_fit_edges_moves_both_edges_and_keeps_the_words_inside() -> None:
    fitted = fit_edges(seg((1000, 2000), (2000, 2400), (2400, 2500)), [(1700, 2700)])
    assert (fitted.start_ms, fitted.end_ms) == (1680, 2700)
    assert [(w.start_ms, w.end_ms) for w in fitted.words] == [
        (1680, 2000),
        (2000, 2400),
        (2400, 2700),
    ]


def test_degenerate_alignments_are_named() -> None:
    good = seg((1000, 1400), (1400, 1900))
    speech = [(1000, 1900)]
    assert degenerate_reason(good, [0.9, 0.8], speech) is None
    assert degenerate_reason(good, [0.1, 0.05, 0.9], speech) == (
        "the text does not match the speech (median token probability 0.10 < 0.15)"
    )
    assert degenerate_reason(good, [0.9], [(3000, 4000)]) == "no speech under the aligned words"
    assert degenerate_reason(seg((1000, 1020)), [0.9], speech) == (
        "the alignment collapsed to 20 ms"
    )
    assert "no words to say" in (degenerate_reason(good, [], speech) or "")


def test_settle_meets_in_the_middle_within_the_words() -> None:
    a = Fitted(seg((1000, 1500), (1500, 2400)), ALIGNED)
    b = Fitted(seg((2000, 2300), (2300, 3000)), ALIGNED)
    c = Fitted(cue_segment(2900, 4000, "cue"), CUE, "why")
    out = settle([c, b, a])
    assert [f.source for f in out] == [ALIGNED, ALIGNED, CUE]
    assert [(f.segment.start_ms, f.segment.end_ms) for f in out] == [
        (1000, 2200),
        (2200, 2950),
        (2950, 4000),
    ]
    # the middle of the overlap would cut the later line's first word: kept at its end
    late = settle([Fitted(seg((0, 1000), (1000, 3000)), ALIGNED), Fitted(seg((1000, 1100)), CUE)])
    assert [(f.segment.start_ms, f.segment.end_ms) for f in late] == [(0, 1100), (1100, 1100)]


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    start = draw(st.integers(0, 20_000))
    cuts = sorted(draw(st.lists(st.integers(0, 3000), min_size=2, max_size=6)))
    spans = [(start + a, start + b) for a, b in pairwise(cuts)]
    return seg(*spans)


@settings(max_examples=200, deadline=None)
@given(st.lists(segments(), min_size=1, max_size=6))
def test_settled_segments_never_overlap_and_hold_their_words(pieces: list[Segment]) -> None:
    out = [f.segment for f in settle([Fitted(s, ALIGNED) for s in pieces])]
    assert sorted(s.text for s in out) == sorted(s.text for s in pieces)
    for before, after in pairwise(out):
        assert before.end_ms <= after.start_ms
    for s in out:
        assert s.words[0].start_ms == s.start_ms and s.words[-1].end_ms == s.end_ms
        starts = [w.start_ms for w in s.words]
        assert starts == sorted(starts)
        assert all(s.start_ms <= w.start_ms <= w.end_ms <= s.end_ms for w in s.words)


@given(segments(), st.integers(0, 25_000), st.integers(0, 25_000))
def test_with_edges_puts_every_word_inside(segment: Segment, start: int, end: int) -> None:
    out = with_edges(segment, start, end)
    assert (out.start_ms, out.end_ms) == (start, max(start, end))
    assert all(out.start_ms <= w.start_ms <= w.end_ms <= out.end_ms for w in out.words)
    assert [w.text for w in out.words] == [w.text for w in segment.words]
