"""The separation stage behind the stage runner and behind gRPC, with in-process parts."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, separation_pb2, separation_pb2_grpc
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request, media_ref
from dubset_separation.handler import SeparationStage
from dubset_separation.server import start
from tests.unit.separation.synth import pair


def _setup(tmp: Path) -> tuple[StageExecutor, LocalStore, dict[str, common_pb2.MediaRef]]:
    pair(tmp, seconds=5.0)
    store = LocalStore(tmp / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "separation")
    refs = {
        lang: media_ref(store.put_file(f"in/{lang}.wav", tmp / f"{lang}.wav", "audio/wav"))
        for lang in ("ja", "en")
    }
    return StageExecutor(SeparationStage(), store, metrics), store, refs


def test_stage_writes_stems_and_reuses_them(tmp_path: Path) -> None:
    executor, store, refs = _setup(tmp_path)
    request = build_request("separation", "job-1", "ep-1", refs, separation_pb2.SeparationParams())
    result = executor.execute(request)
    assert result.backend == "dualdub"
    assert set(result.outputs) == {
        "summary",
        "ja_dialogue",
        "ja_backing",
        "en_dialogue",
        "en_backing",
    }
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["info"]["languages"]["ja"]["fallback_seconds"] == 0.0
    again = executor.execute(request)
    assert again.reused and again.output_key == result.output_key
    other = build_request(
        "separation", "job-1", "ep-1", refs, separation_pb2.SeparationParams(backend="repet")
    )
    repet = executor.execute(other)
    assert repet.backend == "repet" and repet.output_key != result.output_key


def test_stage_rejects_unknown_backend(tmp_path: Path) -> None:
    executor, _store, refs = _setup(tmp_path)
    bad = build_request(
        "separation", "job-1", "ep-1", refs, separation_pb2.SeparationParams(backend="demucs")
    )
    with pytest.raises(Exception, match="unknown backend"):
        executor.execute(bad)


def test_grpc_one_language_and_errors(tmp_path: Path) -> None:
    _executor, store, refs = _setup(tmp_path)
    running = start("127.0.0.1:0", store)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = separation_pb2_grpc.SeparationServiceStub(channel)
            reply = stub.Separate(separation_pb2.SeparateRequest(en_audio=refs["en"]))
            assert reply.backend == "repet" and reply.model == "repet-sim"
            assert reply.en.backing.sha256 and not reply.HasField("ja")
            with pytest.raises(grpc.RpcError) as err:
                stub.Separate(
                    separation_pb2.SeparateRequest(
                        ja_audio=refs["ja"],
                        params=separation_pb2.SeparationParams(backend="dualdub"),
                    )
                )
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "dualdub needs both" in (err.value.details() or "")
    finally:
        running.drain(1)
