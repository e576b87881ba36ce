"""The diarization worker through the real broker and S3 server: a generated dialogue stem in,
turns with the right number of speakers out, scored against the truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset.v1 import common_pb2, diarization_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from dubset_eval.der import Turn, diarization_error
from dubset_sample.generate import SampleOptions, generate
from tests.integration.conftest import StartWorker


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ep")
    generate(SampleOptions(out=out, seconds=40, characters=3, seed=41))
    return out


def test_turns_find_the_three_speakers(
    s3_store: S3Store, start_worker: StartWorker, episode: Path
) -> None:
    worker = start_worker("diarization", "diarization", DUBSET_MAX_ATTEMPTS="1")
    audio = s3_store.put_file("inputs/en.wav", episode / "en_dialogue.wav", "audio/wav")
    params = diarization_pb2.DiarizationParams(language=common_pb2.LANGUAGE_EN)
    request = build_request("diarization", "job-1", "ep-diar", {"audio": audio}, params)
    worker.send(request)

    (result,) = worker.results(request.request_id)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    turns = json.loads(s3_store.get_bytes(s3_store.key_of(result.outputs["turns"].uri)))
    assert turns["language"] == "en" and len(turns["speakers"]) == 3
    truth = json.loads((episode / "truth.json").read_text())
    reference = [
        Turn(ln["speaker"], ln["en"]["start_ms"], ln["en"]["end_ms"]) for ln in truth["lines"]
    ]
    hypothesis = [Turn(t["speaker"], t["start_ms"], t["end_ms"]) for t in turns["turns"]]
    score = diarization_error(reference, hypothesis, duration_ms=truth["duration_ms"]["en"])
    assert score.der < 0.1, score
