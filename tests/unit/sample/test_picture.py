"""Shot planning invariants, art loading, and a real (small) render checked with ffprobe."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_sample.art import (
    BACKGROUNDS,
    ArtLibrary,
    ArtMissingError,
    Look,
    default_art_dir,
    look_for,
)
from dubset_sample.picture import (
    FPS,
    MOTIONS,
    TITLE,
    RenderError,
    Shot,
    frame_at,
    plan_shots,
    render_video,
    shift_shots,
    shot_frames,
    title_shots,
)

REPO = Path(__file__).resolve().parents[3]
ART = REPO / ".venv" / "share" / "dubset" / "art"
CHARS = ("S0", "S1", "S2", "S3")
FRAME_S = float(1 / FPS)


@st.composite
def scripts(draw: st.DrawFn) -> tuple[list[tuple[str, int, int]], int]:
    """Lines one after another, with pauses (or small overlaps), and a duration covering them."""
    speech, t = [], draw(st.integers(0, 5000))
    for _ in range(draw(st.integers(0, 40))):
        length = draw(st.integers(200, 9000))
        speech.append((draw(st.sampled_from(CHARS)), t, t + length))
        t += length + draw(st.integers(-300, 3000))
    return speech, max(t, 0) + draw(st.integers(0, 6000)) + 1


def speech_time(speech: list[tuple[str, int, int]], shot: Shot) -> dict[str, int]:
    totals: dict[str, int] = {}
    for who, s, e in speech:
        overlap = min(e, shot.end_ms) - max(s, shot.start_ms)
        if overlap > 0:
            totals[who] = totals.get(who, 0) + overlap
    return totals


def assert_tiles(shots: tuple[Shot, ...], duration_ms: int) -> None:
    assert shots[0].start_ms == 0
    assert shots[-1].end_ms == duration_ms
    assert all(a.end_ms == b.start_ms for a, b in pairwise(shots))
    if duration_ms >= 2000:
        assert all(2000 <= s.end_ms - s.start_ms <= 8000 for s in shots)
    else:
        assert len(shots) == 1


# ---------------------------------------------------------------- planning


@settings(max_examples=300, deadline=None)
@given(scripts(), st.integers(0, 2**32))
def test_plan_tiles_and_puts_speakers_on_screen(
    script: tuple[list[tuple[str, int, int]], int], seed: int
) -> None:
    speech, duration = script
    shots = plan_shots(speech, duration, CHARS, seed)
    assert_tiles(shots, duration)
    assert shots == plan_shots(speech, duration, CHARS, seed)
    for shot in shots:
        assert len(shot.characters) <= 2
        assert len(set(shot.characters)) == len(shot.characters)
        assert shot.background in BACKGROUNDS
        assert shot.motion in MOTIONS
        totals = speech_time(speech, shot)
        if not totals:
            assert len(shot.characters) <= 1
            continue
        top = max(totals.values())
        if totals.get(shot.characters[0]) != top:  # a voice off screen: the listener shown
            assert len(totals) == 1 and len(shot.characters) == 1
            assert shot.characters[0] not in totals and shot.mouths == ()
            continue
        if len(totals) <= 2:
            assert set(totals) <= set(shot.characters)
        for who, spans in shot.mouths:  # mouths flap only while their owner speaks
            assert who in totals and who in shot.characters
            assert all(0 <= a < b <= shot.end_ms - shot.start_ms for a, b in spans)


def test_plan_cuts_in_pauses_when_it_can() -> None:
    speech = [(CHARS[i % 3], 500 + 2000 * i, 2000 * (i + 1)) for i in range(60)]
    for seed in range(20):
        shots = plan_shots(speech, 121_000, CHARS, seed)
        for shot in shots[1:]:
            assert shot.start_ms % 2000 < 500, shot  # every cut between two lines


def test_plan_consecutive_motions_differ_and_seed_matters() -> None:
    speech = [("S0", 1000 * i, 1000 * i + 700) for i in range(100)]
    shots = plan_shots(speech, 100_000, CHARS, 1)
    assert all(a.motion != b.motion for a, b in pairwise(shots))
    assert shots != plan_shots(speech, 100_000, CHARS, 2)


def test_plan_silence_shows_background_or_idle_character() -> None:
    shots = plan_shots([], 60_000, CHARS, 3)
    assert_tiles(shots, 60_000)
    assert all(len(s.characters) <= 1 and set(s.characters) <= set(CHARS) for s in shots)
    assert plan_shots([], 0, CHARS, 3) == ()
    assert len(plan_shots([], 1500, CHARS, 3)) == 1


@given(st.integers(1, 120_000), st.integers(0, 1000))
def test_title_shots_tile_with_title_motion(duration: int, seed: int) -> None:
    shots = title_shots(duration, seed)
    assert_tiles(shots, duration)
    assert all(s.motion == TITLE and s.characters == () for s in shots)
    assert all(a.background != b.background for a, b in pairwise(shots))


def test_shift_shots() -> None:
    shots = title_shots(10_000, 1)
    moved = shift_shots(shots, 2500)
    assert [(s.start_ms, s.end_ms) for s in moved] == [
        (s.start_ms + 2500, s.end_ms + 2500) for s in shots
    ]
    assert [s.background for s in moved] == [s.background for s in shots]


def test_frame_at_rounds_to_nearest_frame() -> None:
    for ms in range(0, 100_000, 37):
        exact = Fraction(ms, 1000) * FPS
        assert abs(frame_at(ms) - exact) <= Fraction(1, 2)


def test_shot_frames_fill_the_audio_and_reject_gaps() -> None:
    shots = plan_shots([("S0", 0, 5000)], 30_000, CHARS, 0)
    timed = shot_frames(shots, 720)
    assert sum(n for _, n in timed) == 720
    with pytest.raises(ValueError, match="contiguous"):
        shot_frames((shots[0], shots[2]), 720)


# ---------------------------------------------------------------- art


def test_looks_are_distinct_for_eight_characters() -> None:
    looks = [look_for(i) for i in range(8)]
    assert len(set(looks)) == 8
    assert looks == [look_for(i) for i in range(8)]
    with pytest.raises(ValueError):
        look_for(-1)


def test_missing_art_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ArtMissingError, match=r"make setup.*DUBSET_ART_DIR"):
        ArtLibrary.load(tmp_path / "nowhere")
    (tmp_path / ".dubset-art").write_text("dubset-art v2\n")
    with pytest.raises(ArtMissingError, match="incomplete"):
        ArtLibrary.load(tmp_path)


def test_default_art_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DUBSET_ART_DIR", str(tmp_path))
    assert default_art_dir() == tmp_path
    monkeypatch.delenv("DUBSET_ART_DIR")
    assert default_art_dir().parts[-3:] == ("share", "dubset", "art")


# ---------------------------------------------------------------- rendering


@pytest.fixture
def art(monkeypatch: pytest.MonkeyPatch) -> ArtLibrary:
    if not (ART / ".dubset-art").is_file():
        pytest.skip(f"no art in {ART} (tools/fetch_art.sh)")
    monkeypatch.setenv("DUBSET_ART_DIR", str(ART))
    return ArtLibrary.load(default_art_dir())


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "odd dir %d 'x'" / "audio -1.wav"
    path.parent.mkdir()
    t = np.arange(6 * 48_000) / 48_000
    sf.write(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48_000)
    return path


SHOTS = (
    Shot(0, 2000, "meadow", (), TITLE),
    Shot(2000, 4000, "club", ("S0", "S1"), "pan_left"),
    Shot(4000, 6000, "cave", ("S1",), "zoom_in"),
)
LOOKS = {"S0": look_for(0), "S1": look_for(5)}


def probe(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def frames_rgb(path: Path, indices: list[int]) -> list[npt.NDArray[np.int16]]:
    """The decoded frames with these indices, as flat RGB arrays."""
    pick = "+".join(f"eq(n,{i})" for i in indices)
    raw = subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select='{pick}'"),
            *("-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        check=True,
        capture_output=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).astype(np.int16).reshape(len(indices), -1)
    return list(frames)


def change(a: npt.NDArray[np.int16], b: npt.NDArray[np.int16]) -> float:
    return float(np.abs(a - b).mean())


def test_render_is_h264_aac_frame_accurate_and_reproducible(
    art: ArtLibrary, wav: Path, tmp_path: Path
) -> None:
    out, again = tmp_path / "out one.mp4", tmp_path / "again.mp4"
    progress: list[float] = []
    render_video(SHOTS, LOOKS, wav, out, art, hook=progress.append)
    render_video(SHOTS, LOOKS, wav, again, art)
    assert out.read_bytes() == again.read_bytes()
    assert progress[-1] == 1.0 and progress == sorted(progress)

    info = probe(out)
    streams = {s["codec_type"]: s for s in info["streams"]}  # type: ignore[attr-defined]
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], video["pix_fmt"], video["r_frame_rate"]) == (
        "h264",
        "yuv420p",
        "24000/1001",
    )
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
    assert int(video["nb_frames"]) == frame_at(6000)
    assert abs(float(video["duration"]) - 6.0) <= FRAME_S
    assert abs(float(info["format"]["duration"]) - 6.0) <= FRAME_S  # type: ignore[index]
    assert "creation_time" not in json.dumps(info)

    for cut_ms in (2000, 4000):  # hard cuts, exactly at the frame nearest each cut
        cut = frame_at(cut_ms)
        before2, before, after, after2 = frames_rgb(out, [cut - 2, cut - 1, cut, cut + 1])
        assert before.size == 640 * 360 * 3
        within = max(change(before2, before), change(after, after2))
        assert change(before, after) > max(20, 3 * within), (cut_ms, within)


def test_render_failure_raises_and_leaves_no_file(
    art: ArtLibrary, wav: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bad.mp4"
    with pytest.raises(RenderError, match="ffmpeg exited"):
        render_video(SHOTS, LOOKS, wav, out, art, preset="no-such-preset")
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    with pytest.raises(ValueError, match="no look"):
        render_video(SHOTS, {"S0": Look("eileen")}, wav, out, art)
