"""The media stage on a generated episode pair: offsets, refusal of a mismatched pair, gRPC, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, media_pb2, media_pb2_grpc
from dubset_cli.main import main
from dubset_common.errors import InvalidInputError
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request, media_ref
from dubset_media.handler import MediaStage, offset_of
from dubset_media.server import start

from .conftest import INTRO_MS, Episode, shifted_pair

pytestmark = pytest.mark.slow
MAX_ERROR_MS = 20


@pytest.mark.parametrize("ja_offset_ms", [0, 1500, -1500, 30_000, -30_000])
def test_offset_of_generated_episode(episode: Episode, tmp_path: Path, ja_offset_ms: int) -> None:
    ja, en = shifted_pair(episode, ja_offset_ms, tmp_path)
    est = offset_of(en, ja, 300_000)
    print(f"offset {ja_offset_ms}: estimate {est.ja_offset_ms} confidence {est.confidence:.3f}")
    assert abs(est.ja_offset_ms - ja_offset_ms) <= MAX_ERROR_MS
    assert est.same_episode and est.confidence > 0.8


def _executor(tmp: Path) -> tuple[StageExecutor, LocalStore]:
    store = LocalStore(tmp / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "media")
    return StageExecutor(MediaStage(), store, metrics, max_input_bytes=1 << 30), store


def _request(store: LocalStore, ja: Path, en: Path, **params: int) -> common_pb2.StageRequest:
    refs = {
        "ja": store.put_file("in/ja.mp4", ja, "video/mp4"),
        "en": store.put_file("in/en.mp4", en, "video/mp4"),
    }
    return build_request("media", "job-1", "ep-1", refs, media_pb2.MediaParams(**params))


def test_stage_on_the_videos_writes_audio_and_an_offset_eval_scores(
    episode: Episode, tmp_path: Path
) -> None:
    executor, store = _executor(tmp_path)
    request = _request(store, episode.dir / "ja.mp4", episode.dir / "en.mp4")
    result = executor.execute(request)
    assert set(result.outputs) == {"ja", "en", "media"}
    media = json.loads(store.get_bytes(store.key_of(result.outputs["media"].uri)))
    offset = media["offset"]
    assert abs(offset["ja_offset_ms"] - INTRO_MS) <= MAX_ERROR_MS and offset["same_episode"]
    assert media["audio"]["ja"]["sample_rate_hz"] == 16000
    assert abs(media["ja"]["duration_ms"] - media["en"]["duration_ms"] - INTRO_MS) < 100
    # The offset travels on the result as a fact, the same on the reused answer.
    assert result.facts.ja_offset_ms == offset["ja_offset_ms"]
    assert result.facts.offset_confidence == offset["confidence"]
    again = executor.execute(request)
    assert again.reused and again.outputs["ja"].sha256 == result.outputs["ja"].sha256
    assert again.facts == result.facts
    # Which tool made the audio is recorded with it (the backend and the ffmpeg build).
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    version_word = version.stdout.split()[2]
    assert manifest["backend"] == result.backend and manifest["backend"].startswith("ffmpeg")
    assert manifest["info"]["ffmpeg_version"] == version_word
    out = tmp_path / "result"
    out.mkdir()
    (out / "media.json").write_bytes(store.get_bytes(store.key_of(result.outputs["media"].uri)))
    scored = subprocess.run(
        [sys.executable, "-m", "dubset_cli.main", "eval", "--truth",
         str(episode.dir / "truth.json"), "--result", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert "offset" in scored.stdout.lower()


def test_stage_refuses_a_pair_that_is_not_one_episode(
    episode: Episode, other_episode_en: Path, tmp_path: Path
) -> None:
    executor, store = _executor(tmp_path)
    request = _request(store, episode.dir / "ja.mp4", other_episode_en)
    with pytest.raises(InvalidInputError, match="not the same episode"):
        executor.execute(request)
    assert not store.list("stages")


def test_stage_refuses_durations_too_far_apart(episode: Episode, tmp_path: Path) -> None:
    executor, store = _executor(tmp_path)
    request = _request(
        store, episode.dir / "ja.mp4", episode.dir / "en.mp4", max_duration_diff_ms=5000
    )
    with pytest.raises(InvalidInputError, match=r"durations .* differ by 300\d\d ms"):
        executor.execute(request)


def test_grpc_probe_extract_offset(episode: Episode, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    running = start("127.0.0.1:0", store)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            client = media_pb2_grpc.MediaServiceStub(channel)
            refs = {
                lang: media_ref(store.put_file(f"in/{lang}.mp4", episode.dir / f"{lang}.mp4"))
                for lang in ("ja", "en")
            }
            info = client.Probe(media_pb2.ProbeRequest(media=refs["ja"])).info
            assert abs(info.duration_ms - 30_000 - INTRO_MS) < 100
            kinds = [s.kind for s in info.streams]
            assert kinds == [media_pb2.STREAM_KIND_VIDEO, media_pb2.STREAM_KIND_AUDIO]
            audio = {
                lang: client.Extract(
                    media_pb2.ExtractRequest(media=refs[lang], language=common_pb2.LANGUAGE_JA)
                )
                for lang in ("ja", "en")
            }
            assert audio["ja"].sample_rate_hz == 16000 and audio["ja"].channels == 1
            est = client.EstimateOffset(
                media_pb2.EstimateOffsetRequest(
                    en_audio=audio["en"].audio, ja_audio=audio["ja"].audio
                )
            ).estimate
            assert abs(est.ja_offset_ms - INTRO_MS) <= MAX_ERROR_MS and est.same_episode
            text = store.put_bytes("in/notes.mp4", b"hello\n" * 100)
            with pytest.raises(grpc.RpcError) as err:
                client.Probe(media_pb2.ProbeRequest(media=media_ref(text)))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        running.drain(1)


def _cli(*argv: str) -> int:
    return main(list(argv))


def test_cli(
    episode: Episode, other_episode_en: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ja, en = episode.dir / "ja.mp4", episode.dir / "en.mp4"
    assert _cli("probe", str(ja), str(en)) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["ok"] for r in reports] == [True, True]
    assert _cli("extract", str(en), "--out", str(tmp_path / "en.wav"), "--rate", "8000") == 0
    assert json.loads(capsys.readouterr().out)["sample_rate_hz"] == 8000
    assert _cli("offset", str(ja), str(en)) == 0
    assert abs(json.loads(capsys.readouterr().out)["ja_offset_ms"] - INTRO_MS) <= MAX_ERROR_MS
    assert _cli("offset", str(ja), str(other_episode_en)) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["same_episode"] is False
    assert "not the same episode" in captured.err
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    assert _cli("probe", str(notes)) == 2
    assert "not a readable media file" in capsys.readouterr().err
