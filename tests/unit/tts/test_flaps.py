"""Dubbing to the mouth flaps: the line moved onto the moving mouth within its deadline."""

from __future__ import annotations

from dubset_tts.core.dublines import DubLine
from dubset_tts.core.flaps import flap_window, moving, on_flaps


def line(start: int = 1000, end: int = 2000, budget: int = 1500) -> DubLine:
    return DubLine(3, start, end, budget, "A", "Hello there.")


def test_flaps_join_into_the_moving_mouth() -> None:
    assert moving([(1200, 1300), (1400, 1500), (2000, 2100)]) == [(1200, 1500), (2000, 2100)]


def test_a_line_moves_onto_the_flaps_and_keeps_its_deadline() -> None:
    window = flap_window(line(), [(1150, 1300), (1400, 1600), (1700, 2300), (2900, 3000)])
    assert window == (1150, 2300)
    moved = on_flaps(line(), window)
    assert (moved.start_ms, moved.end_ms, moved.start_ms + moved.budget_ms) == (1150, 2300, 2500)
    late = on_flaps(line(budget=1200), (1150, 2600))  # the moving mouth runs past the deadline
    assert (late.start_ms, late.end_ms) == (1150, 2200)


def test_flaps_too_far_from_the_line_leave_it_where_it_was() -> None:
    assert flap_window(line(), [(1600, 1800)]) is None
    assert flap_window(line(), []) is None
    assert flap_window(line(), [(100, 300)]) is None


def test_a_faces_document_that_is_not_one_is_refused() -> None:
    import pytest

    from dubset_tts.core.model import TtsInputError
    from dubset_tts.dubepisode import parse_flaps

    with pytest.raises(TtsInputError, match="no speaking list"):
        parse_flaps(b'{"tracks": []}')
    with pytest.raises(TtsInputError, match="no clip index"):
        parse_flaps(b'{"speaking": [{"speaking_track": 1}]}')
    spans = parse_flaps(
        b'{"speaking": [{"clip": 2, "speaking_track": 0, "mouth_open": [[5, 9], "x", [1]]},'
        b' {"clip": 3, "speaking_track": null, "mouth_open": [[1, 2]]}]}'
    )
    assert spans == {2: [(5, 9)]}  # malformed spans dropped; nobody visible: no entry
