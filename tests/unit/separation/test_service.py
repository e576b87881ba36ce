"""The separation stage behind the stage runner and behind gRPC, with in-process parts."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, separation_pb2, separation_pb2_grpc
from dubset_common.errors import InvalidInputError
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


def test_stage_runs_one_language_and_checks_the_backend_first(tmp_path: Path) -> None:
    executor, _store, refs = _setup(tmp_path)
    ja_only = {"ja": refs["ja"]}
    result = executor.execute(
        build_request("separation", "job-1", "ep-1", ja_only, separation_pb2.SeparationParams())
    )
    assert result.backend == "repet"
    assert set(result.outputs) == {"summary", "ja_dialogue", "ja_backing"}
    en_only = executor.execute(
        build_request(
            "separation", "job-1", "ep-1", {"en": refs["en"]}, separation_pb2.SeparationParams()
        )
    )
    assert set(en_only.outputs) == {"summary", "en_dialogue", "en_backing"}
    assert en_only.output_key != result.output_key

    dualdub = separation_pb2.SeparationParams(backend="dualdub")
    with pytest.raises(InvalidInputError, match="dualdub needs both"):
        executor.execute(build_request("separation", "job-1", "ep-1", ja_only, dualdub))
    with pytest.raises(InvalidInputError, match="no audio given"):
        executor.execute(build_request("separation", "job-1", "ep-1", {}, dualdub))
    with pytest.raises(InvalidInputError, match="unknown inputs for separation: fr"):
        executor.execute(build_request("separation", "job-1", "ep-1", {"fr": refs["en"]}, dualdub))


def test_output_keys_are_those_of_the_stage_before_optional_inputs(tmp_path: Path) -> None:
    """Taken with SeparationStage(("ja", "en")) and SeparationStage(("ja",)) before the change."""
    store = LocalStore(tmp_path / "store")
    executor = StageExecutor(
        SeparationStage(), store, StageMetrics.create(CollectorRegistry(), "separation")
    )
    refs = {
        lang: media_ref(store.put_bytes(f"in/{lang}", data))
        for lang, data in (("ja", b"JA"), ("en", b"EN"))
    }
    cases = [
        (
            refs,
            separation_pb2.SeparationParams(),
            "824df77096d7fea01cbfa0681fb18f0d5f9057ad34ce555284845f1ae59c7d92",
        ),
        (
            refs,
            separation_pb2.SeparationParams(backend="repet", ja_offset_ms=1500),
            "f9f560b22aca898745fa533e69c465f8fda64a414e52f340dee1e51703f82ed0",
        ),
        (
            {"ja": refs["ja"]},
            separation_pb2.SeparationParams(backend="repet"),
            "4e792783def6f518ea2806403b48f4856fa3bea8695a44c40f50464c4073a123",
        ),
    ]
    for given, params, key in cases:
        request = build_request("separation", "job-1", "ep-1", given, params)
        assert executor.output_key(request)[0] == key


def test_grpc_and_worker_share_outputs(tmp_path: Path) -> None:
    executor, store, refs = _setup(tmp_path)
    running = start("127.0.0.1:0", store)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = separation_pb2_grpc.SeparationServiceStub(channel)
            reply = stub.Separate(separation_pb2.SeparateRequest(ja_audio=refs["ja"]))
    finally:
        running.drain(1)
    request = build_request(
        "separation", "job-1", "ep-1", {"ja": refs["ja"]}, separation_pb2.SeparationParams()
    )
    result = executor.execute(request)
    assert result.reused
    assert result.outputs["ja_dialogue"] == reply.ja.dialogue
