"""The quality stage behind gRPC, in process: the Quality call runs the stage on the store,
a bad request is INVALID_ARGUMENT, and calls are counted."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from dubset_quality.server import start
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, quality_pb2, quality_pb2_grpc
from dubset_common.objstore import LocalStore
from tests.unit.quality.test_stage import GOOD_JP, _inputs


def test_the_quality_call_scores_on_the_store_and_refuses_bad_requests(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    refs = _inputs(store, tmp_path)
    registry = CollectorRegistry()
    running = start("127.0.0.1:0", store, registry)
    request = quality_pb2.QualityRequest(
        episode_id="show-e01",
        params=quality_pb2.QualityParams(dataset="ds", reasr=False, dnsmos=False),
    )
    for name, info in refs.items():
        request.inputs[name].CopyFrom(common_pb2.MediaRef(uri=info.uri, sha256=info.sha256))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = quality_pb2_grpc.QualityServiceStub(channel)
            reply = stub.Quality(request, timeout=120)
            doc = json.loads(store.get_bytes(store.key_of(reply.quality.uri)))
            assert doc["clips"][GOOD_JP]["duration_ratio"] == 1.0
            bad = quality_pb2.QualityRequest()
            bad.CopyFrom(request)
            bad.episode_id = "../escape"
            with pytest.raises(grpc.RpcError) as err:
                stub.Quality(bad, timeout=60)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        running.drain(1)
    method = "/dubset.v1.QualityService/Quality"
    name = "dubset_quality_grpc_requests_total"
    assert registry.get_sample_value(name, {"method": method, "code": "OK"}) == 1
    assert registry.get_sample_value(name, {"method": method, "code": "INVALID_ARGUMENT"}) == 1
