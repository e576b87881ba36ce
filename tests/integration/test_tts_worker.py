"""The tts worker through the real broker and S3 server: an episode's baseline dub lands in S3
under the dataset, the result on dubset.tts.results.v1; a replay rewrites nothing."""

from __future__ import annotations

import json
from pathlib import Path

from dubset.v1 import common_pb2, tts_pb2
from dubset_common.keys import sha256_hex
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import StartWorker
from tests.unit.tts.test_handler import CLIPS, EPISODE, clip_id, write_episode


def _request(store: S3Store, folder: Path) -> common_pb2.StageRequest:
    files = write_episode(folder)
    # No EN turns: every speaker gets the backend's default voice (no calibration: fast).
    files["en_turns"].write_text(json.dumps({"language": "en", "turns": []}))
    refs = {
        name: store.put_file(f"inputs/{name}", path, "application/octet-stream")
        for name, path in files.items()
    }
    params = tts_pb2.TtsParams(dataset="itest", compute_scores=False)
    return build_request("tts", "job-1", EPISODE, refs, params)


def test_request_result_and_replay(
    s3_store: S3Store, start_worker: StartWorker, tmp_path: Path
) -> None:
    worker = start_worker("tts", "tts-worker")
    request = _request(s3_store, tmp_path / "ep")
    worker.send(request)

    (result,) = worker.results(request.request_id, 1, timeout_s=300)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert result.backend.startswith("piper-tts-") and not result.reused
    key = s3_store.key_of(result.outputs["baseline"].uri)
    assert key == f"stages/tts/{result.output_key}/baseline.json"
    frag_bytes = s3_store.get_bytes(key)
    assert s3_store.get_bytes(f"datasets/itest/baseline/{EPISODE}.json") == frag_bytes
    frag = json.loads(frag_bytes)
    assert frag["episode_sha256"] == request.inputs["episode"].sha256
    assert {v["voice"] for v in frag["voices"].values()} == {"piper:joe"}
    spoken = [i for i, c in enumerate(CLIPS) if c[4]]
    assert sorted(f["clip"] for f in frag["files"]) == sorted(clip_id(i) for i in spoken)
    for entry in frag["files"]:
        data = s3_store.get_bytes(f"datasets/itest/{entry['path']}")
        assert (len(data), sha256_hex(data)) == (entry["bytes"], entry["sha256"])
        i = next(i for i in spoken if clip_id(i) == entry["clip"])
        assert abs(entry["duration_ms"] - (CLIPS[i][1] - CLIPS[i][0])) <= 30
    stored = sorted(s3_store.list("datasets/itest"))

    worker.send(request)  # a replay: reused, nothing rewritten
    results = worker.results(request.request_id, 2, timeout_s=120)
    assert len(results) == 2 and results[1].reused
    assert results[1].outputs["baseline"] == result.outputs["baseline"]
    assert sorted(s3_store.list("datasets/itest")) == stored


def test_bad_fragment_fails_the_request_without_retry(
    s3_store: S3Store, start_worker: StartWorker, tmp_path: Path
) -> None:
    worker = start_worker("tts", "tts-worker-bad")
    request = _request(s3_store, tmp_path / "ep")
    bad = s3_store.put_bytes("inputs/bad-episode", b'{"format": "nope"}', "application/json")
    request.inputs["episode"].CopyFrom(
        common_pb2.MediaRef(uri=bad.uri, sha256=bad.sha256, size_bytes=bad.size_bytes)
    )
    worker.send(request)
    (result,) = worker.results(request.request_id, 1, timeout_s=120)
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT"
    assert "give the packaging stage's `episode` output" in result.error_message
    assert not s3_store.list("datasets")
