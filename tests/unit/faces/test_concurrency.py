"""The faces stage's concurrent parts give what running in order gives: shots and motion on
their own thread, and face clips encoded two at a time; a failure in either fails the call."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from dubset_faces import encode, video
from dubset_faces.analyze import _ShotsAndMotion
from dubset_faces.backends.scenedetect_shots import SceneDetectShots
from dubset_faces.core.model import FaceClip, FacesInputError, Frame
from dubset_faces.motion import ShotMotion

from dubset_common.ffmpeg import Tools


def _frames(n: int) -> list[Frame]:
    """Two shots of moving noise: a cut at n // 2."""
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        base = 40 if i < n // 2 else 200
        frame = np.full((90, 160, 3), base, np.uint8)
        x = (i * 3) % 120
        frame[30:60, x : x + 30] = rng.integers(0, 255, (30, 30, 3), dtype=np.uint8)
        out.append(frame)
    return out


def test_shots_and_motion_on_a_thread_equal_inline() -> None:
    frames = _frames(120)
    fps = Fraction(24)
    inline_det = SceneDetectShots("adaptive", fps, 0.0)
    inline_motion = ShotMotion(inline_det.lag)
    cuts: list[int] = []
    for i, f in enumerate(frames):
        found = inline_det.push(i, f)
        cuts += found
        inline_motion.push(i, f, found)
    last = inline_det.flush()
    cuts += last
    scores = inline_motion.finish(last)

    det = SceneDetectShots("adaptive", fps, 0.0)
    threaded = _ShotsAndMotion(det, ShotMotion(det.lag))
    try:
        for i, f in enumerate(frames):
            threaded.push(i, f)
        got_cuts, got_scores = threaded.finish()
    finally:
        threaded.close()
    assert got_cuts == cuts and 60 in cuts
    assert got_scores == scores and len(scores) == 120


class _Failing:
    lag = 2
    name = "failing"

    def __init__(self, at: int) -> None:
        self.at = at

    def push(self, index: int, frame: Frame) -> Sequence[int]:
        if index == self.at:
            raise FacesInputError(f"bad frame {index}")
        return []

    def flush(self) -> Sequence[int]:
        return []


def test_a_failure_on_the_thread_fails_the_analysis() -> None:
    threaded = _ShotsAndMotion(_Failing(at=3), ShotMotion(2))
    with pytest.raises(FacesInputError, match="bad frame 3"):
        try:
            for i, f in enumerate(_frames(400)):  # more than the queue holds
                threaded.push(i, f)
            threaded.finish()
        finally:
            threaded.close()


def test_close_without_finish_stops_the_thread() -> None:
    threaded = _ShotsAndMotion(_Failing(at=-1), ShotMotion(2))
    threaded.push(0, _frames(1)[0])
    threaded.close()  # the decoding failed part way: nothing hangs


@pytest.fixture(scope="module")
def clip_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    path = tmp_path_factory.mktemp("v") / "v.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=24:duration=4", "-pix_fmt", "yuv420p",
                    str(path)], check=True)  # fmt: skip
    return path


def _clips(n: int) -> list[FaceClip]:
    return [
        FaceClip(track=k, shot=0, start=k * 12, end=k * 12 + 24,
                 crops=tuple((10.0 + k, 20.0, 96.0) for _ in range(24)), motion=0.5)
        for k in range(n)
    ]  # fmt: skip


def test_clips_two_at_a_time_are_the_bytes_of_one_at_a_time(
    clip_video: Path, tmp_path: Path
) -> None:
    tools = Tools().resolve()
    info = video.probe(clip_video, tools)
    clips = _clips(5)
    seen: list[float] = []
    one, mids1 = encode.write_clips(clip_video, info, clips, tmp_path / "a", tools, 64, True,
                                    lambda f: None, workers=1)  # fmt: skip
    two, mids2 = encode.write_clips(clip_video, info, clips, tmp_path / "b", tools, 64, True,
                                    seen.append, workers=2)  # fmt: skip
    assert [(w.clip, w.kind) for w in one] == [(w.clip, w.kind) for w in two]
    assert len(one) == 10 and seen == [(n + 1) / 5 for n in range(5)]
    for a, b in zip(one, two, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()
    assert len(mids1) == 5 and all(np.array_equal(x, y) for x, y in zip(mids1, mids2, strict=True))


def test_a_failing_clip_fails_the_writing(clip_video: Path, tmp_path: Path) -> None:
    tools = Tools().resolve()
    info = video.probe(clip_video, tools)
    past_the_end = FaceClip(shot=0, track=9, start=500, end=524,
                            crops=((0.0, 0.0, 64.0),) * 24, motion=0.5)  # fmt: skip
    with pytest.raises(FacesInputError, match="no frames"):
        encode.write_clips(clip_video, info, [*_clips(3), past_the_end], tmp_path, tools, 64,
                           False, lambda f: None)  # fmt: skip
