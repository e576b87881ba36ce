"""The render worker through the real broker and S3 server: a generated episode, a speech
track and its lines in; the dubbed episode, its report and subtitles out; a replay reused."""

from __future__ import annotations

import json
from pathlib import Path

from dubset.v1 import common_pb2, render_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import StartWorker
from tests.unit.render.lines import human_dub_lines


def test_the_dubbed_episode_and_a_replay(
    s3_store: S3Store, start_worker: StartWorker, tmp_path: Path
) -> None:
    from dubset_sample.generate import SampleOptions, generate

    episode = tmp_path / "ep"
    generate(SampleOptions(out=episode, seconds=10, characters=2, seed=5))
    worker = start_worker("render", "render", DUBSET_MAX_ATTEMPTS="1")
    refs = {
        "video": s3_store.put_file("in/ja.mp4", episode / "ja.mp4", "video/mp4"),
        "speech": s3_store.put_file("in/speech.wav", episode / "en_dialogue.wav", "audio/wav"),
        "lines": s3_store.put_bytes("in/lines.json", human_dub_lines(episode)),
        "ja_dialogue": s3_store.put_file("in/ja_d.wav", episode / "ja_dialogue.wav", "audio/wav"),
    }
    params = render_pb2.RenderParams(container="mkv")
    request = build_request("render", "job-1", "ep-render", refs, params)
    worker.send(request)
    (result,) = worker.results(request.request_id)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert set(result.outputs) == {"video", "report", "subtitles"}
    report = json.loads(s3_store.get_bytes(s3_store.key_of(result.outputs["report"].uri)))
    assert report["levels"]["mix_true_peak_dbtp"] <= -0.9 and report["lines"]
    replay = build_request("render", "job-2", "ep-render", refs, params)
    worker.send(replay)
    (again,) = worker.results(replay.request_id)
    assert again.output_key == result.output_key
    assert again.outputs["video"].sha256 == result.outputs["video"].sha256
