"""The render stage on a generated episode: the English track over the separated bed (or the
ducked original), loudness-matched and true-peak limited, muxed beside the untouched video and
Japanese track, with the spoken subtitles and the report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, render_pb2
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from dubset_render.handler import RenderStage
from dubset_voices.level import LoudnessMeter
from tests.unit.render.lines import human_dub_lines

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def episode(dub_episode: Path) -> Path:
    return dub_episode


def _run(
    tmp: Path, episode: Path, separated: bool, **params: Any
) -> tuple[common_pb2.StageResult, LocalStore]:
    store = LocalStore(tmp / "store")
    executor = StageExecutor(RenderStage(), store, StageMetrics.create(CollectorRegistry(), "r"))
    refs = {
        "video": store.put_file("in/ja.mp4", episode / "ja.mp4", "video/mp4"),
        # The human dub's dialogue stands in for the synthesized speech.
        "speech": store.put_file("in/speech.wav", episode / "en_dialogue.wav", "audio/wav"),
        "lines": store.put_bytes("in/lines.json", human_dub_lines(episode)),
    }
    if separated:
        refs["ja_dialogue"] = store.put_file("in/ja_d.wav", episode / "ja_dialogue.wav")
    request = build_request("render", "job-1", "ep-1", refs, render_pb2.RenderParams(**params))
    return deliver_once(executor, request).result, store


def _streams(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    streams: list[dict[str, Any]] = json.loads(out)["streams"]
    return streams


def _packets_md5(path: Path, spec: str) -> str:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", spec, "-c", "copy", "-f", "md5", "-"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _fetch(store: LocalStore, ref: common_pb2.MediaRef, path: Path) -> Path:
    path.write_bytes(store.get_bytes(store.key_of(ref.uri)))
    return path


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_the_dub_keeps_video_and_japanese_untouched_and_adds_english(
    episode: Path, tmp_path: Path, container: str
) -> None:
    result, store = _run(tmp_path, episode, separated=True, container=container)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    video = _fetch(store, result.outputs["video"], tmp_path / f"dubbed.{container}")
    streams = _streams(video)
    kinds = [(s["codec_type"], s.get("tags", {}).get("language")) for s in streams[1:]]
    assert streams[0]["codec_type"] == "video"
    assert kinds == [("audio", "jpn"), ("audio", "eng"), ("subtitle", "eng")]
    tags = streams[2]["tags"]
    assert "English (automatic dub)" in (tags.get("title"), tags.get("handler_name"))
    for spec in ("0:v:0", "0:a:0"):  # stream-copied: the same packets
        assert _packets_md5(video, spec) == _packets_md5(episode / "ja.mp4", spec), spec
    report = json.loads(store.get_bytes(store.key_of(result.outputs["report"].uri)))
    levels = report["levels"]
    assert levels["bed"].startswith("separated") and levels["mix_true_peak_dbtp"] <= -0.9
    srt = store.get_bytes(store.key_of(result.outputs["subtitles"].uri)).decode()
    assert srt.count("-->") == len(report["lines"])


def _decode(video: Path, spec: str, out: Path) -> np.ndarray:
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", spec, "-ac", "1",
                    "-ar", "48000", str(out)], check=True)  # fmt: skip
    audio, _ = sf.read(out, dtype="float32")
    return np.asarray(audio)


def _lag(a: np.ndarray, b: np.ndarray) -> int:
    from scipy.signal import correlate

    n = min(len(a), len(b))
    return int(np.argmax(correlate(a[:n], b[:n], mode="full", method="fft"))) - (n - 1)


def test_the_speech_sits_at_the_dialogue_loudness_over_the_bed(
    episode: Path, tmp_path: Path
) -> None:
    result, store = _run(tmp_path, episode, separated=True)
    video = _fetch(store, result.outputs["video"], tmp_path / "dubbed.mkv")
    eng = _decode(video, "0:a:1", tmp_path / "eng.wav")
    ja = _decode(video, "0:a:0", tmp_path / "ja.wav")

    def mono(name: str) -> np.ndarray:
        audio, _ = sf.read(episode / name, dtype="float32")
        return np.asarray(audio.reshape(len(audio), -1).mean(axis=1))

    bed, dialogue = mono("ja_backing.wav"), mono("ja_dialogue.wav")
    # Both tracks of the file are as late as its video (AAC priming): the same lag.
    lag = _lag(ja, bed + dialogue)
    assert 0 <= lag < 4800 and _lag(eng, bed) == lag
    eng = eng[lag:]
    n = min(len(eng), len(bed))
    rate = 48000
    # Where nobody speaks, the English track is the Japanese bed.
    truth = json.loads((episode / "truth.json").read_text())
    quiet = np.ones(n, bool)
    for x in truth["lines"]:
        for lang in ("ja", "en"):
            quiet[max(0, (x[lang]["start_ms"] - 300) * rate // 1000):
                  (x[lang]["end_ms"] + 300) * rate // 1000] = False  # fmt: skip
    residual = eng[:n][quiet] - bed[:n][quiet]
    snr = 10 * np.log10(np.mean(np.square(bed[:n][quiet])) / np.mean(np.square(residual)))
    assert snr > 15, snr
    report = json.loads(store.get_bytes(store.key_of(result.outputs["report"].uri)))
    ja_meter = LoudnessMeter(48000)
    ja_meter.add(dialogue)
    assert abs(report["levels"]["target_lufs"] - ja_meter.integrated()) < 0.5


def test_without_a_separation_the_original_is_ducked_and_says_so(
    episode: Path, tmp_path: Path
) -> None:
    result, store = _run(tmp_path, episode, separated=False)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    report = json.loads(store.get_bytes(store.key_of(result.outputs["report"].uri)))
    assert report["levels"]["bed"] == "ducked"


@pytest.mark.parametrize(
    ("params", "reason"),
    [({"container": "avi"}, "container must be mkv or mp4"),
     ({"ja_stream_index": 7}, "no audio stream #7"),
     ({"title": "x;y"}, "title must be")],
)  # fmt: skip
def test_bad_params_fail_the_job_with_the_reason(
    episode: Path, tmp_path: Path, params: dict[str, Any], reason: str
) -> None:
    result, _ = _run(tmp_path, episode, separated=False, **params)
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT" and reason in result.error_message


def test_a_video_that_is_not_one_fails_the_job_and_writes_nothing(
    episode: Path, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    executor = StageExecutor(RenderStage(), store, StageMetrics.create(CollectorRegistry(), "r"))
    refs = {
        "video": store.put_bytes("in/ja.mp4", b"not a video at all" * 100, "video/mp4"),
        "speech": store.put_file("in/speech.wav", episode / "en_dialogue.wav", "audio/wav"),
        "lines": store.put_bytes("in/lines.json", human_dub_lines(episode)),
    }
    request = build_request("render", "job-1", "ep-1", refs, render_pb2.RenderParams())
    delivered = deliver_once(executor, request)
    assert delivered.result.status == common_pb2.STAGE_STATUS_FAILED
    assert delivered.result.error_code == "INVALID_INPUT"
    assert "the episode video cannot be read" in delivered.result.error_message
    assert not store.list("stages")
