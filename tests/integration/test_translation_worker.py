"""The translation worker through the real broker and S3 server: a transcript and official
subtitles in, translated lines out; a replay is answered from the stored result; an endpoint
the operator did not allow fails the job without calling it."""

from __future__ import annotations

import json

from dubset.v1 import common_pb2, translation_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import StartWorker

TRANSCRIPT = {
    "language": "ja",
    "segments": [
        {"start_ms": 1000, "end_ms": 2000, "text": "ただいま"},
        {"start_ms": 3000, "end_ms": 4500, "text": "おかえり"},
    ],
}
SUBTITLES = (
    "1\n00:00:00,800 --> 00:00:02,300\nI'm home.\n\n"
    "2\n00:00:02,900 --> 00:00:04,800\nWelcome back.\n\n"
    "3\n00:00:06,000 --> 00:00:07,000\n[SIGN: Club Room]\n"
)


def test_subtitles_translate_the_lines_and_a_replay_is_reused(
    s3_store: S3Store, start_worker: StartWorker
) -> None:
    worker = start_worker("translation", "translation", DUBSET_MAX_ATTEMPTS="1")
    refs = {
        "ja": s3_store.put_bytes("in/ja.json", json.dumps(TRANSCRIPT).encode()),
        "subtitles": s3_store.put_bytes("in/en.srt", SUBTITLES.encode(), "text/plain"),
    }
    params = translation_pb2.TranslationParams()
    request = build_request("translation", "job-1", "ep-tr", refs, params)
    worker.send(request)
    (result,) = worker.results(request.request_id)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert result.backend == "subtitles"
    doc = json.loads(s3_store.get_bytes(s3_store.key_of(result.outputs["translation"].uri)))
    assert [line["en_text"] for line in doc["lines"]] == ["I'm home.", "Welcome back."]
    assert doc["unmatched_cues"] == [2]

    replay = build_request("translation", "job-2", "ep-tr", refs, params)
    worker.send(replay)
    (again,) = worker.results(replay.request_id)
    assert again.status == common_pb2.STAGE_STATUS_OK and again.output_key == result.output_key


def test_an_endpoint_the_operator_did_not_allow_fails_the_job(
    s3_store: S3Store, start_worker: StartWorker
) -> None:
    worker = start_worker(
        "translation", "translation", DUBSET_MAX_ATTEMPTS="1",
        DUBSET_TRANSLATION_ENDPOINTS="http://127.0.0.1:9/v1",
    )  # fmt: skip
    refs = {"ja": s3_store.put_bytes("in/ja.json", json.dumps(TRANSCRIPT).encode())}
    params = translation_pb2.TranslationParams(
        backend="openai", model="m", endpoint="http://169.254.169.254/latest"
    )
    request = build_request("translation", "job-3", "ep-tr2", refs, params)
    worker.send(request)
    (result,) = worker.results(request.request_id)
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "CONFIG" and "does not call http://169.254.169.254" in (
        result.error_message
    )
