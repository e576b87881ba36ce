"""Speech maps: hysteresis runs and gap joining, against a frame-by-frame reading."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dubset_common.speechmap import hysteresis_runs, join_gaps


def test_a_run_starts_at_onset_and_ends_below_offset() -> None:
    probs = [0.1, 0.6, 0.4, 0.4, 0.2, 0.5, 0.9]
    assert hysteresis_runs(probs, onset=0.5, offset=0.35) == [(1, 4), (5, 7)]
    assert hysteresis_runs([], 0.5, 0.35) == []
    assert hysteresis_runs([0.4, 0.4], 0.5, 0.35) == []


@given(st.lists(st.floats(0, 1), max_size=60))
def test_runs_cover_exactly_the_frames_in_speech(probs: list[float]) -> None:
    inside, speaking = [], False
    for p in probs:
        speaking = p >= 0.35 if speaking else p >= 0.5
        inside.append(speaking)
    covered = [
        any(s <= i < e for s, e in hysteresis_runs(probs, 0.5, 0.35)) for i in range(len(probs))
    ]
    assert covered == inside


def test_gaps_shorter_than_the_minimum_are_joined() -> None:
    assert join_gaps([(50, 60), (0, 10), (12, 20), (30, 30)], min_gap=5) == [(0, 20), (50, 60)]
    assert join_gaps([(0, 10), (5, 8)], min_gap=1) == [(0, 10)]
