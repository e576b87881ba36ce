"""The quality worker through the real broker and S3 server: a packaged episode's fragment,
stems, transcripts and turns in; the quality fragment out, in the dataset too, with the real
DNSMOS model and the real Whisper re-recognition; a replay reused; a stem that is not audio
fails that request with the reason."""

from __future__ import annotations

import json
from pathlib import Path

from dubset.v1 import common_pb2, quality_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import StartWorker
from tests.unit.quality.test_stage import BAD_JP, GOOD_JP, _inputs


def test_scores_a_replay_and_a_stem_that_is_not_audio(
    s3_store: S3Store, start_worker: StartWorker, tmp_path: Path
) -> None:
    worker = start_worker("quality", "quality", DUBSET_MAX_ATTEMPTS="1")
    refs = _inputs(s3_store, tmp_path)  # type: ignore[arg-type]
    params = quality_pb2.QualityParams(dataset="ds")
    request = build_request("quality", "job-1", "show-e01", refs, params)
    worker.send(request)
    (result,) = worker.results(request.request_id, timeout_s=300)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert result.backend == "dubset-quality+faster-whisper:base+dnsmos-p835"
    data = s3_store.get_bytes(s3_store.key_of(result.outputs["quality"].uri))
    assert s3_store.get_bytes("datasets/ds/quality/show-e01.json") == data
    clips = json.loads(data)["clips"]
    for jp in (GOOD_JP, BAD_JP):
        q = clips[jp]
        assert 1.0 <= q["dnsmos_en"] <= 5.0 and 0.0 <= q["agreement_en"] <= 1.0, q
        assert 0.0 <= q["score"] <= 1.0
    assert clips[BAD_JP]["overlap_ja"] == 0.5
    replay = build_request("quality", "job-2", "show-e01", refs, params)
    worker.send(replay)
    (again,) = worker.results(replay.request_id)
    assert again.output_key == result.output_key
    assert again.outputs["quality"].sha256 == result.outputs["quality"].sha256
    bad_refs = dict(refs)
    bad_refs["ja_dialogue"] = s3_store.put_bytes("in/not-audio.flac", b"not audio at all")
    bad = build_request("quality", "job-3", "show-e01", bad_refs, params)
    worker.send(bad)
    (failed,) = worker.results(bad.request_id)
    assert failed.status != common_pb2.STAGE_STATUS_OK
    assert "not a readable audio file" in failed.error_message
