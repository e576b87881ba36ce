"""faces.json against the picture's truth: shots, boxes, face clips and the speaking face."""

from __future__ import annotations

import pytest

from dubset_eval.facescore import score_faces
from dubset_eval.fields import FieldError

BOX = [100, 50, 60, 60]


def picture() -> dict[str, object]:
    """Two 48-frame shots: S0 alone (a pan), then S0 and S1 (held still)."""
    return {
        "shots": [
            {"start_frame": 0, "frames": 48, "motion": "pan_left"},
            {"start_frame": 48, "frames": 48, "motion": "still"},
        ],
        "faces": [
            {"character": "S0", "start_frame": 0, "boxes": [BOX] * 48},
            {"character": "S0", "start_frame": 48, "boxes": [BOX] * 48},
            {"character": "S1", "start_frame": 48, "boxes": [[400, 50, 60, 60]] * 48},
        ],
    }


def doc(cut: int = 49, **extra: object) -> dict[str, object]:
    return {
        "format": "dubset-faces/1",
        "video": {"fps": "24/1"},
        "analysis": {"rules": {"min_ms": 1000, "faces_per_frame": 1}},
        "shots": [{"start_frame": 0}, {"start_frame": cut}],
        "tracks": [
            {"start_frame": 0, "boxes": [BOX] * 48},
            {"start_frame": 48, "boxes": [[102, 52, 60, 60]] * 48},
            {"start_frame": 60, "boxes": [[300, 200, 40, 40]] * 10},  # not a face
        ],
        "clips": [{"track": 0, "start_frame": 0, "end_frame": 48}],
        **extra,
    }


def test_shots_boxes_and_clips() -> None:
    s = score_faces(picture(), doc())
    assert s.shot_f1 == 1.0  # 49 is within 2 frames of 48
    assert (s.face_recall.hits, s.face_recall.total) == (96, 144)  # S1 never found
    assert (s.face_precision.hits, s.face_precision.total) == (96, 106)
    assert (s.clip_precision.rate, s.clip_recall.rate, s.truth_clips) == (1.0, 1.0, 1)
    assert score_faces(picture(), doc(cut=52)).shot_f1 == 0.0


def test_the_speaking_face_and_a_voice_off_screen() -> None:
    speaking = [
        {"ja_start_ms": 0, "ja_end_ms": 1500, "speaking_track": 0},  # S0 speaks, on screen
        {"ja_start_ms": 2100, "ja_end_ms": 3900, "speaking_track": 1},  # S1 speaks: wrong face
        {"ja_start_ms": 4100, "ja_end_ms": 4500, "speaking_track": None},  # S2, off screen
    ]
    lines = [("S0", 0, 1500), ("S1", 2100, 3900), ("S2", 4100, 4500)]
    s = score_faces(picture() | {"frames": 120}, doc(speaking=speaking), lines)
    assert (s.speaking.hits, s.speaking.total) == (1, 2)
    assert (s.offscreen.hits, s.offscreen.total) == (1, 1)


def test_a_document_of_another_kind_is_refused() -> None:
    with pytest.raises(FieldError, match="format"):
        score_faces(picture(), {"format": "x"})
