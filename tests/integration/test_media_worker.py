"""The media worker through the real broker and S3 server: a generated episode pair in, canonical
audio and the JA-EN offset out; a mismatched pair gets a FAILED result that says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset.v1 import common_pb2, media_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from dubset_sample.generate import SampleOptions, generate
from tests.integration.conftest import StartWorker

OFFSET_MS = 1500


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    one, other = tmp_path_factory.mktemp("ep-a"), tmp_path_factory.mktemp("ep-b")
    generate(SampleOptions(out=one, seconds=20, characters=2, seed=21, ja_offset_ms=OFFSET_MS))
    generate(SampleOptions(out=other, seconds=20, characters=2, seed=22))
    return one, other


def _request(store: S3Store, ja: Path, en: Path, episode: str) -> common_pb2.StageRequest:
    refs = {
        "ja": store.put_file(f"inputs/{episode}/ja.mp4", ja, "video/mp4"),
        "en": store.put_file(f"inputs/{episode}/en.mp4", en, "video/mp4"),
    }
    return build_request("media", "job-1", episode, refs, media_pb2.MediaParams())


def test_episode_pair_gives_audio_and_offset_and_a_mismatch_fails_clearly(
    s3_store: S3Store, start_worker: StartWorker, episodes: tuple[Path, Path]
) -> None:
    one, other = episodes
    worker = start_worker("media", "media-worker", DUBSET_MAX_ATTEMPTS="1")

    good = _request(s3_store, one / "ja.mp4", one / "en.mp4", "ep-good")
    worker.send(good)
    (result,) = worker.results(good.request_id)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    media = json.loads(s3_store.get_bytes(s3_store.key_of(result.outputs["media"].uri)))
    assert abs(media["offset"]["ja_offset_ms"] - OFFSET_MS) <= 20
    assert media["offset"]["same_episode"] is True
    # The offset also travels on the result on Kafka, for the jobs service.
    assert result.facts.HasField("ja_offset_ms")
    assert result.facts.ja_offset_ms == media["offset"]["ja_offset_ms"]
    for lang in ("ja", "en"):
        key = s3_store.key_of(result.outputs[lang].uri)
        assert key == f"stages/media/{result.output_key}/{lang}.wav"
        assert s3_store.size(key) > 16000 * 2 * 19  # ≥ 19 s of 16 kHz 16-bit mono

    mismatched = _request(s3_store, one / "ja.mp4", other / "en.mp4", "ep-mismatch")
    worker.send(mismatched)
    (failed,) = worker.results(mismatched.request_id)
    assert failed.status == common_pb2.STAGE_STATUS_FAILED
    assert "same episode" in failed.error_message
