"""The alignment stage behind gRPC and behind the stage runner, with in-process parts."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import alignment_pb2, alignment_pb2_grpc, common_pb2
from dubset_alignment.handler import AlignmentStage
from dubset_alignment.server import start
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from tests.unit.service_process import run_without_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stub() -> alignment_pb2_grpc.AlignmentServiceStub:
    running = start("127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield alignment_pb2_grpc.AlignmentServiceStub(channel)
    channel.close()
    running.drain(1)


def seg(start: int, end: int, text: str = "") -> common_pb2.Segment:
    return common_pb2.Segment(start_ms=start, end_ms=end, text=text)


def test_grpc_align(stub: alignment_pb2_grpc.AlignmentServiceStub) -> None:
    reply = stub.Align(
        alignment_pb2.AlignRequest(
            en=[seg(1000, 2000, "hello"), seg(9000, 9500, "alone")],
            ja=[seg(31_050, 32_000, "こんにちは")],
            params=alignment_pb2.AlignmentParams(ja_offset_ms=30_000),
        )
    )
    assert len(reply.clips) == 1
    assert (reply.clips[0].start_ms, reply.clips[0].ja_start_ms) == (1000, 31_000)
    assert list(reply.unpaired_en) == [1]


def test_grpc_unset_gap_is_125_and_zero_gap_is_honoured(
    stub: alignment_pb2_grpc.AlignmentServiceStub,
) -> None:
    request = alignment_pb2.AlignRequest(en=[seg(0, 100)], ja=[seg(225, 300)])
    assert len(stub.Align(request).clips) == 1
    request.params.max_gap_ms = 0
    assert len(stub.Align(request).clips) == 0


def test_grpc_bad_input_is_invalid_argument(stub: alignment_pb2_grpc.AlignmentServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.Align(alignment_pb2.AlignRequest(en=[seg(500, 100)], ja=[]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "end_ms 100 < start_ms 500" in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as err:
        stub.Align(alignment_pb2.AlignRequest(en=[seg(-5, 100)], ja=[]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _executor(tmp: Path) -> tuple[StageExecutor, LocalStore]:
    store = LocalStore(tmp / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "alignment")
    return StageExecutor(AlignmentStage(), store, metrics), store


def _request(store: LocalStore, en: bytes, ja: bytes, **params: int) -> common_pb2.StageRequest:
    refs = {
        "en": store.put_bytes("in/en.json", en, "application/json"),
        "ja": store.put_bytes("in/ja.json", ja, "application/json"),
    }
    return build_request(
        "alignment", "job-1", "ep-1", refs, alignment_pb2.AlignmentParams(**params)
    )


def test_stage_writes_the_cli_output_and_reuses_it(tmp_path: Path) -> None:
    executor, store = _executor(tmp_path)
    en, ja = (ROOT / "examples/en.json").read_bytes(), (ROOT / "examples/ja.json").read_bytes()
    result = executor.execute(_request(store, en, ja))
    clips = json.loads(store.get_bytes(store.key_of(result.outputs["clips"].uri)))
    assert [c["en"] for c in clips["clips"]] == [[0, 1], [2, 3], [4]]
    again = executor.execute(_request(store, en, ja))
    assert again.reused and again.output_key == result.output_key
    assert result.facts.clips == again.facts.clips == 3  # the result says what it made
    other = executor.execute(_request(store, en, ja, ja_offset_ms=100))
    assert other.output_key != result.output_key


def test_stage_rejects_bad_segments_without_writing(tmp_path: Path) -> None:
    executor, store = _executor(tmp_path)
    bad = _request(store, b'[{"start_ms": 5, "end_ms": 1}]', b"[]")
    delivered = deliver_once(executor, bad)
    result = delivered.result
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT" and "end_ms 1 < start_ms 5" in result.error_message
    assert delivered.dead_letters == 1
    assert not store.list("stages")


def test_stage_rejects_foreign_params(tmp_path: Path) -> None:
    executor, store = _executor(tmp_path)
    request = _request(store, b"[]", b"[]")
    request.params.Pack(common_pb2.MediaRef(uri="x"))
    with pytest.raises(Exception, match="AlignmentParams"):
        executor.execute(request)


def test_grpc_calls_are_counted_by_method_and_code() -> None:
    registry = CollectorRegistry()
    running = start("127.0.0.1:0", registry)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            client = alignment_pb2_grpc.AlignmentServiceStub(channel)
            client.Align(alignment_pb2.AlignRequest(en=[seg(0, 10)], ja=[seg(0, 10)]))
            with pytest.raises(grpc.RpcError):
                client.Align(alignment_pb2.AlignRequest(en=[seg(10, 0)]))
    finally:
        running.drain(1)
    method = "/dubset.v1.AlignmentService/Align"
    name = "dubset_alignment_grpc_requests_total"
    assert registry.get_sample_value(name, {"method": method, "code": "OK"}) == 1
    assert registry.get_sample_value(name, {"method": method, "code": "INVALID_ARGUMENT"}) == 1
    count = registry.get_sample_value(
        "dubset_alignment_grpc_request_seconds_count", {"method": method}
    )
    assert count == 2


def test_service_without_required_settings_stops_with_a_clear_message() -> None:
    out = run_without_settings("dubset_alignment")
    assert out.returncode == 2
    assert "DUBSET_KAFKA_BOOTSTRAP is required" in out.stderr
