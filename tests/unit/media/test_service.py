"""Stage params, and the service process without its settings."""

from __future__ import annotations

import pytest

from dubset.v1 import common_pb2, media_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.runner import params_json
from dubset_media.handler import MediaStage
from tests.unit.service_process import run_without_settings


def _request(params: media_pb2.MediaParams | common_pb2.MediaRef) -> common_pb2.StageRequest:
    request = common_pb2.StageRequest(stage="media")
    request.params.Pack(params)
    return request


def test_params_defaults_and_limits() -> None:
    stage = MediaStage()
    assert params_json(stage.parse_params(_request(media_pb2.MediaParams()))) == {
        "sample_rate_hz": 16000,
        "channels": 1,
        "ja_stream_index": None,
        "en_stream_index": None,
        "max_offset_ms": 300_000,
        "max_duration_diff_ms": 300_000,
    }
    got = stage.parse_params(_request(media_pb2.MediaParams(ja_stream_index=0, channels=2)))
    assert got.ja_stream_index == 0 and got.channels == 2
    for bad in (
        media_pb2.MediaParams(sample_rate_hz=100),
        media_pb2.MediaParams(channels=0),
        media_pb2.MediaParams(max_offset_ms=-1),
        media_pb2.MediaParams(en_stream_index=-2),
    ):
        with pytest.raises(InvalidInputError):
            stage.parse_params(_request(bad))
    with pytest.raises(InvalidInputError, match="MediaParams"):
        stage.parse_params(_request(common_pb2.MediaRef(uri="x")))


def test_service_without_required_settings_stops_with_a_clear_message() -> None:
    out = run_without_settings("dubset_media")
    assert out.returncode == 2
    assert "DUBSET_KAFKA_BOOTSTRAP is required" in out.stderr
