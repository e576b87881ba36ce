"""The faces worker through the real broker and S3 server: a generated episode's Japanese
video in; faces.json, the contact sheet and the face clips out; a replay reused; a video
without a video stream fails that request with the reason."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dubset.v1 import common_pb2, faces_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import StartWorker


def test_face_clips_a_replay_and_a_video_without_pictures(
    s3_store: S3Store, start_worker: StartWorker, tmp_path: Path
) -> None:
    from dubset_sample.generate import SampleOptions, generate

    episode = tmp_path / "ep"
    generate(SampleOptions(out=episode, seconds=10, characters=2, seed=5))
    worker = start_worker("faces", "faces", DUBSET_MAX_ATTEMPTS="1")
    refs = {"video": s3_store.put_file("in/ja.mp4", episode / "ja.mp4", "video/mp4")}
    params = faces_pb2.FacesParams(full_frame=False)
    request = build_request("faces", "job-1", "ep-faces", refs, params)
    worker.send(request)
    (result,) = worker.results(request.request_id)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    doc = json.loads(s3_store.get_bytes(s3_store.key_of(result.outputs["faces"].uri)))
    assert doc["shots"] and doc["tracks"]
    clips = {f"clip/{c['id']}" for c in doc["clips"]}
    assert {"faces", "contact_sheet"} | clips == set(result.outputs)
    assert result.facts.face_clips == len(clips)
    replay = build_request("faces", "job-2", "ep-faces", refs, params)
    worker.send(replay)
    (again,) = worker.results(replay.request_id)
    assert again.output_key == result.output_key
    assert again.outputs["faces"].sha256 == result.outputs["faces"].sha256
    audio = tmp_path / "audio.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", str(audio)],
                   check=True)  # fmt: skip
    bad = build_request("faces", "job-3", "ep-bad", {
        "video": s3_store.put_file("in/audio.m4a", audio, "audio/mp4")}, params)  # fmt: skip
    worker.send(bad)
    (failed,) = worker.results(bad.request_id)
    assert failed.status != common_pb2.STAGE_STATUS_OK
    assert "no video stream" in failed.error_message
