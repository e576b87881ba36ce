"""Who speaks on screen (pure): open mouths against a drifting level, the speaking track per
clip (or nobody), one character per diarized voice; and the faces documents."""

from __future__ import annotations

import pytest
from dubset_faces.core.fragment import (
    anivid_path,
    av_path,
    faces_fragment,
    parse_episode_fragment,
)
from dubset_faces.core.model import FacesInputError, Track
from dubset_faces.core.speaking import ClipSpan, Turn, characters, open_frames, speaking

FPS = 25.0  # 40 ms a frame


def track(start: int, frames: int, shot: int = 0) -> Track:
    return Track(shot, start, ((100.0, 50.0, 60.0, 60.0),) * frames, 3, 1.0)


def flapping(frames: int, base: float = 0.1) -> list[float]:
    """Open for 3 frames, shut for 2, over a slowly rising level (the art drifting)."""
    return [base + i * 0.002 + (0.2 if i % 5 < 3 else 0.0) for i in range(frames)]


def test_open_frames_follow_flaps_not_the_drifting_level() -> None:
    opened = open_frames(flapping(50))
    assert opened[5:10] == [True, True, True, False, False]  # (the first: no closed frame before)
    assert not any(open_frames([0.1 + i * 0.01 for i in range(50)]))  # a drift is no flap


def test_the_flapping_face_speaks_and_a_still_one_does_not() -> None:
    tracks = [track(0, 100), track(0, 100)]
    opened = [open_frames(flapping(100)), open_frames([0.1] * 100)]
    clips = [ClipSpan(0, 400, 3600)]
    turns = [Turn(400, 3600, "SPEAKER_01")]
    (said,) = speaking(clips, turns, tracks, opened, FPS)
    assert (said.visible, said.track, said.speaker) == ((0, 1), 0, "SPEAKER_01")
    assert said.shares[0] > 0.5 and said.shares[1] == 0.0
    assert said.mouth_open[0] == (400, 520)  # frames 10-12, in episode ms
    assert characters([said]) == {"SPEAKER_01": [0]}


def test_nobody_speaks_when_no_mouth_moves_or_two_move_alike() -> None:
    tracks = [track(0, 100), track(0, 100)]
    turns = [Turn(0, 4000, "A")]
    clips = [ClipSpan(0, 0, 4000)]
    still = [open_frames([0.1] * 100)] * 2
    assert speaking(clips, turns, tracks, still, FPS)[0].track is None
    both = [open_frames(flapping(100))] * 2
    assert speaking(clips, turns, tracks, both, FPS)[0].track is None
    gone = speaking([ClipSpan(1, 5000, 6000)], turns, tracks, both, FPS)[0]
    assert gone.visible == () and gone.track is None and gone.speaker is None


def _fragment(clips: list[dict[str, object]]) -> bytes:
    import json

    return json.dumps({
        "format": "dubset-dataset-episode/1", "episode_id": "show-e01",
        "episode": {"clips": clips},
        "files": [{"kind": "audio", "clip": "ab/ab000000-0000-0000-0000-000000000001",
                   "path": "anim400k_audio_clips/ab/ab000000-0000-0000-0000-000000000001.mp3"}],
    }).encode()  # fmt: skip


JP = "ab/ab000000-0000-0000-0000-000000000001"
EN = "cd/cd000000-0000-0000-0000-000000000002"


def test_the_episode_fragment_gives_clip_pairs_and_audio() -> None:
    clip = {"jp_clip": JP, "en_clip": EN, "jp_start_time": "00:00:01.500",
            "jp_end_time": "00:00:03.000"}  # fmt: skip
    episode = parse_episode_fragment(_fragment([clip]))
    assert episode.episode_id == "show-e01"
    assert [(c.jp_clip, c.ja_start_ms, c.ja_end_ms) for c in episode.clips] == [(JP, 1500, 3000)]
    assert episode.audio[JP].endswith(".mp3")
    for bad in ({**clip, "jp_clip": "../x"}, {**clip, "jp_end_time": "00:00:01.000"},
                {**clip, "jp_start_time": "1.5"}):  # fmt: skip
        with pytest.raises(FacesInputError):
            parse_episode_fragment(_fragment([bad]))
    with pytest.raises(FacesInputError, match="packaging"):
        parse_episode_fragment(b'{"format": "other"}')


def test_faces_fragment_lists_files_sorted_with_their_kinds() -> None:
    from dubset_faces.core.fragment import FileEntry

    files = [FileEntry(av_path(JP), "a" * 64, 10, 900, "av", JP),
             FileEntry(anivid_path("show-e01", "s0001-t0002-f000010", False), "b" * 64, 20,
                       1000, "anivid", "s0001-t0002-f000010")]  # fmt: skip
    value = faces_fragment(episode_id="show-e01", episode_sha256="c" * 64, backend="be",
                           files=files, anivid=[], speaking={JP: {}}, characters={})  # fmt: skip
    paths = [f["path"] for f in value["files"]]  # type: ignore[index, union-attr]
    assert paths == sorted(paths) and paths[0] == "anim400k_av_clips/" + JP + ".mp4"
    kinds = {f["kind"]: f["language"] for f in value["files"]}  # type: ignore[index, union-attr]
    assert kinds == {"av": "ja+en", "anivid": ""}
