"""The media stage on the Japanese episode alone (a dub job): its Japanese track, no offset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, media_pb2
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from dubset_media.handler import MediaStage

from .conftest import Episode, ffmpeg

pytestmark = pytest.mark.slow


def _run(tmp: Path, video: Path) -> tuple[common_pb2.StageResult, LocalStore]:
    store = LocalStore(tmp / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "media")
    executor = StageExecutor(MediaStage(), store, metrics, max_input_bytes=1 << 30)
    refs = {"ja": store.put_file("in/ja.mp4", video, "video/mp4")}
    request = build_request("media", "job-1", "ep-1", refs, media_pb2.MediaParams())
    return deliver_once(executor, request).result, store


def test_the_japanese_episode_alone_gives_its_track_and_no_offset(
    episode: Episode, tmp_path: Path
) -> None:
    result, store = _run(tmp_path, episode.dir / "ja.mp4")
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert set(result.outputs) == {"ja", "media"}
    assert not result.facts.HasField("ja_offset_ms")
    media = json.loads(store.get_bytes(store.key_of(result.outputs["media"].uri)))
    assert set(media["audio"]) == {"ja"} and "offset" not in media
    assert media["audio"]["ja"]["sample_rate_hz"] == 16000


def test_a_silent_japanese_episode_fails_with_the_reason(episode: Episode, tmp_path: Path) -> None:
    silent = tmp_path / "silent.mp4"
    ffmpeg("-i", str(episode.dir / "ja.mp4"), "-af", "volume=0", "-c:v", "copy", str(silent))
    result, _ = _run(tmp_path, silent)
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert "JA soundtrack is silent" in result.error_message
