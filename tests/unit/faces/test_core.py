"""The faces stage's pure core: IoU linking into tracks, interpolation, DVR-Scan's shot
score, the AniVid filters and the crop path, and faces.json."""

from __future__ import annotations

from fractions import Fraction

import pytest
from dubset_faces.core.anivid import Rules, face_clips, shot_motion
from dubset_faces.core.doc import clip_id, faces_doc
from dubset_faces.core.model import Detection, FacesInputError, Shot
from dubset_faces.core.tracks import build_tracks, iou, link, smooth


def det(x: float, y: float, side: float = 40.0, score: float = 0.9) -> Detection:
    return Detection((x, y, side, side), score, (x + side / 3, y + side * 0.7, side / 3, 6.0))


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_link_follows_two_faces_and_starts_a_new_one_on_a_jump() -> None:
    samples = [
        (0, [det(10, 10), det(200, 10)]),
        (12, [det(204, 12), det(13, 11)]),  # listed in the other order
        (24, [det(16, 12), det(400, 50)]),  # the right face is gone, a new one far away
    ]
    chains = link(samples, max_missed=0)
    firsts = sorted((c[0][0], c[0][1].box[0], len(c)) for c in chains)
    assert firsts == [(0, 10.0, 3), (0, 200.0, 2), (24, 400.0, 1)]


def test_tracks_interpolate_and_reach_the_shot_edges() -> None:
    shot = Shot(0, 48)
    samples = [(0, [det(10, 10)]), (24, [det(20, 10)]), (47, [det(30, 10)])]
    (track,) = build_tracks(0, shot, samples)
    assert (track.start, track.end, track.hits) == (0, 48, 3)
    assert track.box(12) == pytest.approx((15.0, 10.0, 40.0, 40.0))
    assert track.box(48) is None
    mouth = track.mouths[12]
    assert mouth is not None and mouth[0] == pytest.approx(15 + 40 / 3)


def test_a_face_seen_once_is_noise_unless_the_shot_had_one_sample() -> None:
    shot = Shot(0, 48)
    samples = [(0, [det(10, 10), det(300, 10)]), (24, [det(10, 10)]), (47, [det(10, 10)])]
    assert [t.hits for t in build_tracks(0, shot, samples)] == [3]
    assert len(build_tracks(0, Shot(0, 10), [(0, [det(300, 10)])])) == 1


def test_a_face_that_leaves_ends_half_way_to_the_next_sample() -> None:
    shot = Shot(100, 200)
    samples = [(100, [det(10, 10)]), (124, [det(10, 10)]), (148, []), (172, [])]
    (track,) = build_tracks(3, shot, samples)
    assert (track.shot, track.start, track.end) == (3, 100, 136)


def test_shot_motion_needs_the_level_held_for_the_event_length() -> None:
    assert shot_motion([9.0, 0.1, 0.9, 0.2, 0.8, 0.7], 2) == pytest.approx(0.7)
    assert shot_motion([50.0, 0.0], 2) == 0.0  # the first frame is the model's first look
    assert shot_motion([1.0, 2.0, 3.0], 1) == 3.0


def test_face_clips_keep_single_face_runs_in_moving_shots_within_bounds() -> None:
    fps = 24.0
    shots = [Shot(0, 96), Shot(96, 192), Shot(192, 212)]  # the last one too short
    one = [(f, [det(100, 50)]) for f in range(0, 96, 12)]
    two = [(f, [det(100, 50), det(400, 50)]) for f in range(96, 144, 12)]
    two += [(f, [det(100, 50)]) for f in range(144, 192, 12)]
    short = [(f, [det(100, 50)]) for f in range(192, 212, 12)]
    tracks = []
    for s, shot in enumerate(shots):
        tracks += build_tracks(s, shot, one + two + short)
    clips = face_clips(shots, tracks, [5.0, 5.0, 5.0], fps, (640, 360), Rules())
    spans = [(c.shot, c.start, c.end) for c in clips]
    # shot 1: two faces until the right one leaves (half way from 132 to 144), then one
    assert spans == [(0, 0, 96), (1, 138, 192)]
    still = face_clips(shots, tracks, [0.2, 5.0, 5.0], fps, (640, 360), Rules())
    assert [(c.shot, c.start) for c in still] == [(1, 138)]
    pieces = face_clips(shots, tracks, [5.0] * 3, fps, (640, 360), Rules(max_ms=1500))
    assert [(c.start, c.end) for c in pieces if c.shot == 0] == [(0, 36), (36, 72), (72, 96)]


def test_crops_are_square_centred_and_inside_the_frame() -> None:
    shot = Shot(0, 48)
    samples = [(f, [det(f * 12.5, f * 6.25, 60)]) for f in range(0, 48, 2)]
    tracks = build_tracks(0, shot, samples)
    (clip,) = face_clips([shot], tracks, [9.0], 24.0, (640, 360), Rules(smooth_frames=0))
    for x, y, side in clip.crops:
        assert side == pytest.approx(108)
        assert 0 <= x <= 640 - side and 0 <= y <= 360 - side
    assert clip.crops[0][:2] == (0.0, 0.0)
    assert clip.crops[-1][:2] == pytest.approx((532.0, 252.0), abs=0.01)  # held in frame


def test_smooth_is_a_centred_average() -> None:
    assert smooth([0.0, 3.0, 6.0, 9.0], 1) == pytest.approx([1.5, 3.0, 6.0, 7.5])
    assert smooth([1.0, 5.0], 3) == [1.0, 5.0]


def test_rules_refuse_nonsense() -> None:
    for bad in (Rules(faces_per_frame=0), Rules(min_ms=0), Rules(min_ms=5000, max_ms=100),
                Rules(crop_scale=0.5), Rules(min_motion=-1)):  # fmt: skip
        with pytest.raises(FacesInputError):
            bad.check()


def test_faces_doc_lists_shots_tracks_and_clips_with_files() -> None:
    shots = [Shot(0, 48)]
    tracks = build_tracks(0, shots[0], [(0, [det(10, 10)]), (47, [det(12, 10)])])
    clips = face_clips(shots, tracks, [3.0], 24.0, (640, 360), Rules())
    files = {clip_id(clips[0]): {"crop": "anivid_clips/x.mp4"}}
    doc = faces_doc(video={"width": 640, "height": 360}, fps=Fraction(24000, 1001), shots=shots,
                    motion=[3.0], tracks=tracks, clips=clips, files=files, analysis={})  # fmt: skip
    assert doc["video"] == {"width": 640, "height": 360, "fps": "24000/1001"}
    (shot,) = doc["shots"]  # type: ignore[misc]
    assert shot["end_ms"] == 2002 and shot["faces"] == 1
    (clip,) = doc["clips"]  # type: ignore[misc]
    assert clip["id"] == "s0000-t0000-f000000" and clip["files"] == {"crop": "anivid_clips/x.mp4"}
    (track,) = doc["tracks"]  # type: ignore[misc]
    assert len(track["boxes"]) == 48 and len(track["mouths"]) == 48
