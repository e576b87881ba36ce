"""The stage executor: content-addressed outputs, manifest last, finished work skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import wrappers_pb2
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2
from dubset_common.errors import IntegrityError, InvalidInputError, NotFoundError
from dubset_common.keys import sha256_hex
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import MANIFEST, StageExecutor
from dubset_common.testing.stages import BACKEND, STAGE, FakeStage, RecordingStore, make_request


def new_executor(
    root: Path, stage: FakeStage | None = None
) -> tuple[StageExecutor, RecordingStore]:
    store = RecordingStore(LocalStore(root))
    metrics = StageMetrics.create(CollectorRegistry(), STAGE)
    return StageExecutor(stage or FakeStage(), store, metrics), store  # type: ignore[arg-type]


def test_outputs_land_under_the_content_key_with_manifest_last(tmp_path: Path) -> None:
    executor, store = new_executor(tmp_path / "s")
    request = make_request(store, data=b"hello", suffix="!")
    store.puts.clear()
    result = executor.execute(request)
    prefix = f"stages/{STAGE}/{result.output_key}/"
    assert result.status == common_pb2.STAGE_STATUS_OK
    assert result.backend == BACKEND and not result.reused
    assert (result.request_id, result.job_id, result.episode_id, result.stage) == (
        "req-1",
        "job-1",
        "ep-1",
        STAGE,
    )
    assert store.puts[-1] == prefix + MANIFEST
    assert sorted(store.puts[:-1]) == [prefix + "meta.json", prefix + "out.txt"]
    assert store.list(f"stages/{STAGE}") == sorted(store.puts)
    assert store.get_bytes(prefix + "out.txt") == b"HELLO!"


def test_result_refs_match_the_stored_bytes(tmp_path: Path) -> None:
    executor, store = new_executor(tmp_path / "s")
    result = executor.execute(make_request(store))
    assert set(result.outputs) == {"out", "meta"}
    for ref in [*result.outputs.values(), result.manifest]:
        data = store.get_bytes(store.key_of(ref.uri))
        assert ref.sha256 == sha256_hex(data)
        assert ref.size_bytes == len(data)
    assert result.outputs["out"].mime == "text/plain"
    assert result.manifest.mime == "application/json"


def test_manifest_records_what_was_done(tmp_path: Path) -> None:
    executor, store = new_executor(tmp_path / "s")
    request = make_request(store, data=b"abc", suffix="?")
    result = executor.execute(request)
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["stage"] == STAGE and manifest["version"] == "1"
    assert manifest["key"] == result.output_key
    assert manifest["backend"] == BACKEND
    assert manifest["params"] == {"suffix": "?"}
    assert manifest["inputs"] == {"src": request.inputs["src"].sha256}
    assert manifest["info"] == {"length": 3}
    assert manifest["outputs"]["out"]["sha256"] == sha256_hex(b"ABC?")


def test_replay_reuses_without_running_or_writing(tmp_path: Path) -> None:
    stage = FakeStage()
    executor, store = new_executor(tmp_path / "s", stage)
    first = executor.execute(make_request(store, request_id="r1"))
    replay = make_request(store, request_id="r2")  # same bytes, same params
    listing, puts = store.list(""), len(store.puts)
    second = executor.execute(replay)
    assert stage.calls == 1
    assert second.reused and not first.reused
    assert second.request_id == "r2"
    assert second.output_key == first.output_key
    assert dict(second.outputs) == dict(first.outputs)
    assert second.manifest == first.manifest
    assert len(store.puts) == puts and store.list("") == listing


def test_other_params_or_inputs_run_again(tmp_path: Path) -> None:
    stage = FakeStage()
    executor, store = new_executor(tmp_path / "s", stage)
    keys = {
        executor.execute(make_request(store, data=b"a")).output_key,
        executor.execute(make_request(store, data=b"a", suffix="x")).output_key,
        executor.execute(make_request(store, data=b"b")).output_key,
    }
    assert stage.calls == 3 and len(keys) == 3


def test_manifest_is_byte_identical_across_fresh_stores(tmp_path: Path) -> None:
    manifests = []
    for name in ("one", "two"):
        executor, store = new_executor(tmp_path / name)
        result = executor.execute(make_request(store, suffix="!", request_id=f"r-{name}"))
        manifests.append((result.output_key, store.get_bytes(store.key_of(result.manifest.uri))))
    assert manifests[0] == manifests[1]


def test_interrupted_run_without_manifest_is_redone(tmp_path: Path) -> None:
    stage = FakeStage()
    executor, store = new_executor(tmp_path / "s", stage)
    first = executor.execute(make_request(store))
    store.delete(store.key_of(first.manifest.uri))  # as if the worker died before the manifest
    second = executor.execute(make_request(store))
    assert stage.calls == 2 and not second.reused
    assert second.manifest == first.manifest


def test_tampered_input_is_an_integrity_error(tmp_path: Path) -> None:
    executor, store = new_executor(tmp_path / "s")
    request = make_request(store, data=b"original")
    store.put_bytes("inputs/src.txt", b"tampered")
    with pytest.raises(IntegrityError, match="does not match its sha256"):
        executor.execute(request)
    assert store.list("stages") == []


def test_missing_input_object_is_not_found(tmp_path: Path) -> None:
    executor, store = new_executor(tmp_path / "s")
    request = make_request(store)
    store.delete("inputs/src.txt")
    with pytest.raises(NotFoundError):
        executor.execute(request)


def test_oversized_input_is_invalid(tmp_path: Path) -> None:
    executor, store = new_executor(tmp_path / "s")
    executor.max_input_bytes = 4
    with pytest.raises(InvalidInputError, match="over the limit"):
        executor.execute(make_request(store, data=b"12345"))


def _mutate(request: common_pb2.StageRequest, what: str, store: RecordingStore) -> None:
    if what == "job_id":
        request.job_id = "../../x"
    elif what == "episode_id":
        request.episode_id = "a b"
    elif what == "empty episode":
        request.episode_id = ""
    elif what == "stage":
        request.stage = "asr"
    elif what == "missing input":
        del request.inputs["src"]
    elif what == "bad sha":
        request.inputs["src"].sha256 = "ABC"
    elif what == "uppercase sha":
        request.inputs["src"].sha256 = request.inputs["src"].sha256.upper()
    elif what == "outside uri":
        request.inputs["src"].uri = "file:///etc/passwd"
    elif what == "traversal uri":
        request.inputs["src"].uri = store.uri("inputs/src.txt").replace(
            "inputs/src.txt", "inputs/../../../etc/passwd"
        )
    elif what == "s3 uri":
        request.inputs["src"].uri = "s3://dubset/inputs/src.txt"
    elif what == "wrong params type":
        request.params.Pack(wrappers_pb2.Int64Value(value=1))


@pytest.mark.parametrize(
    "what",
    [
        "job_id",
        "episode_id",
        "empty episode",
        "stage",
        "missing input",
        "bad sha",
        "uppercase sha",
        "outside uri",
        "traversal uri",
        "s3 uri",
        "wrong params type",
    ],
)
def test_invalid_requests_fail_before_any_work(tmp_path: Path, what: str) -> None:
    stage = FakeStage()
    executor, store = new_executor(tmp_path / "s", stage)
    request = make_request(store)
    _mutate(request, what, store)
    with pytest.raises(InvalidInputError):
        executor.execute(request)
    assert stage.calls == 0
    assert store.list("stages") == []
