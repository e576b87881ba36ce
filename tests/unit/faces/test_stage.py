"""The faces stage through the runner on a generated episode (scored against its picture
truth, re-run byte for byte) and on videos that are not what a user hopes for."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dubset_faces.backends import animeface_faces
from dubset_faces.handler import FacesStage
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, faces_pb2
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_eval.facescore import score_faces

pytestmark = pytest.mark.slow


def _run(tmp: Path, video: Path, **params: object) -> tuple[common_pb2.StageResult, LocalStore]:
    store = LocalStore(tmp)
    executor = StageExecutor(
        FacesStage(workers=1), store, StageMetrics.create(CollectorRegistry(), "f")
    )
    refs = {"video": store.put_file(f"in/{video.name}", video, "video/mp4")}
    request = build_request("faces", "job-1", "ep-1", refs, faces_pb2.FacesParams(**params))  # type: ignore[arg-type]
    return executor.execute(request), store


def _doc(store: LocalStore, result: common_pb2.StageResult) -> dict[str, object]:
    value: dict[str, object] = json.loads(
        store.get_bytes(store.key_of(result.outputs["faces"].uri))
    )
    return value


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def test_generated_episode_scores_against_its_picture_truth(
    dub_episode: Path, tmp_path: Path
) -> None:
    result, store = _run(tmp_path / "a", dub_episode / "ja.mp4")
    doc = _doc(store, result)
    truth = json.loads((dub_episode / "truth.json").read_text())["picture"]
    score = score_faces(truth, doc)
    assert score.shot_recall.rate is not None and score.shot_recall.rate >= 0.8
    assert score.face_recall.rate is not None and score.face_recall.rate >= 0.85
    assert score.face_precision.rate is not None and score.face_precision.rate >= 0.9
    clips = doc["clips"]
    assert isinstance(clips, list) and clips
    assert result.facts.face_clips == len(clips)
    first = clips[0]["id"]
    assert {f"clip/{first}", f"full/{first}", "faces", "contact_sheet"} <= set(result.outputs)
    crop = store.key_of(result.outputs[f"clip/{first}"].uri)
    local = tmp_path / "clip.mp4"
    store.get_file(crop, local)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(local)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    (stream,) = json.loads(probe)["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 256, 256)
    # Byte-identical re-runs: the e2e runs the stage twice (embedded, distributed) and compares.


def test_no_faces_black_static_single_shot_gives_an_empty_result(tmp_path: Path) -> None:
    video = tmp_path / "black.mp4"
    _ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x240:r=24:d=3", "-c:v", "libx264", str(video))
    result, store = _run(tmp_path / "s", video)
    doc = _doc(store, result)
    assert len(doc["shots"]) == 1 and doc["tracks"] == [] and doc["clips"] == []  # type: ignore[arg-type]
    assert result.facts.face_clips == 0


def test_odd_rate_and_variable_rate_are_analysed_on_their_average_clock(tmp_path: Path) -> None:
    vfr = tmp_path / "vfr.mp4"  # 30 frames at 30 fps, then 30 at 15 fps: 2.9 s, 60 frames
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=2", "-vf",
            "setpts='if(lt(N,30),N/(30*TB),(30+(N-30)*2)/(30*TB))'", "-fps_mode", "vfr",
            "-c:v", "libx264", str(vfr))  # fmt: skip
    odd = tmp_path / "odd.mkv"  # 12.5 fps, odd sides
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=322x182:r=12.5:d=2", "-c:v", "libx264", str(odd))
    for video, fps, frames in ((vfr, "600/29", 60), (odd, "25/2", 25)):
        result, store = _run(tmp_path / video.stem, video)
        doc = _doc(store, result)
        assert doc["video"]["fps"] == fps  # type: ignore[index]
        assert abs(doc["video"]["frames"] - frames) <= 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (["-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac"], "no video stream"),
        (["-f", "lavfi", "-i", "color=s=1600x64:d=1", "-c:v", "libx264"], "aspect"),
        (None, "cannot be read"),
        ("damaged", "decoding the video failed at frame"),
        ("truncated", "the video ends after"),
    ],
)
def test_bad_videos_fail_the_request_with_the_reason(
    tmp_path: Path, make: list[str] | str | None, reason: str
) -> None:
    video = tmp_path / "bad.mp4"
    if make is None:
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 100)
    elif isinstance(make, str):
        whole = tmp_path / "whole.mkv"
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=6", "-c:v", "libx264", str(whole))
        data, half = whole.read_bytes(), whole.stat().st_size // 2
        video = tmp_path / "cut.mkv"
        damaged = data[:half] + bytes(4096) + data[half + 4096 :]
        video.write_bytes(damaged if make == "damaged" else data[:half])
    else:
        _ffmpeg(*make, str(video))
    with pytest.raises(InvalidInputError, match=reason):
        _run(tmp_path / "s", video)


def test_animeface_refuses_a_pillow_it_finds_nothing_with(monkeypatch: pytest.MonkeyPatch) -> None:
    import PIL

    monkeypatch.setattr(PIL, "__version__", "12.0.0")
    with pytest.raises(ConfigError, match="Pillow < 12"):
        animeface_faces.AnimeFaceDetector()


def test_bad_params_are_refused(dub_episode: Path, tmp_path: Path) -> None:
    for params in ({"stride": 999}, {"shot_detector": "transnet"}, {"crop_size": 33},
                   {"min_clip_ms": 5000, "max_clip_ms": 100}):  # fmt: skip
        with pytest.raises(InvalidInputError):
            _run(tmp_path / "s", dub_episode / "ja.mp4", **params)
