"""Lip-flap agreement: flaps joined into moving spans, speech against them."""

from __future__ import annotations

from dubset_eval.flaps import flap_spans, moving, score_flaps


def test_open_spans_join_across_short_closures() -> None:
    assert moving([(0, 100), (200, 300), (700, 800)]) == [(0, 300), (700, 800)]


def test_speech_in_flaps_and_flaps_covered() -> None:
    clips = [((0, 2000), [(0, 1000)]), ((3000, 4000), [(3000, 3500)])]
    score = score_flaps(clips, [(500, 1500), (2500, 3500)])
    # speech inside the clips: 500-1500 and 3000-3500 (1500 ms); while the mouth moves: 1000 ms
    assert (score.speech_ms, score.flap_ms, score.overlap_ms) == (1500, 1500, 1000)
    assert score.speech_in_flaps == 1000 / 1500 and score.flaps_covered == 1000 / 1500
    assert score_flaps([], [(0, 10)]).speech_in_flaps is None


def test_flap_spans_keep_the_speaking_face_s_time_on_screen() -> None:
    doc = {
        "video": {"fps": "25/1"},
        "tracks": [{"start_frame": 25, "end_frame": 100}],
        "speaking": [
            {"ja_start_ms": 0, "ja_end_ms": 3000, "speaking_track": 0,
             "mouth_open": [[1200, 1300], [1400, 1500]]},
            {"ja_start_ms": 0, "ja_end_ms": 900, "speaking_track": None, "mouth_open": []},
        ],
    }  # fmt: skip
    assert flap_spans(doc) == [((1000, 3000), [(1200, 1500)])]
