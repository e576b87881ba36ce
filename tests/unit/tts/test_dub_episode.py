"""The tts stage dubbing a whole episode: a translation's lines in one stock voice per
character, each on its Japanese line, in one speech track as long as the video."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, tts_pb2
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from dubset_tts.handler import TtsStage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def episode(dub_episode: Path) -> Path:
    return dub_episode


def _translation(episode: Path) -> bytes:
    """The truth's lines as the translation stage writes them (budget: up to the next line)."""
    truth = json.loads((episode / "truth.json").read_text())
    lines = sorted(truth["lines"], key=lambda x: x["ja"]["start_ms"])
    out = []
    for k, line in enumerate(lines):
        start, end = line["ja"]["start_ms"], line["ja"]["end_ms"]
        nxt = lines[k + 1]["ja"]["start_ms"] - 150 if k + 1 < len(lines) else end + 600
        budget = max(end, min(nxt, end + 600)) - start
        out.append({"start_ms": start, "end_ms": end, "budget_ms": budget,
                    "speaker": line["speaker"], "en_text": line["en"]["text"]})  # fmt: skip
    return json.dumps({"format": "dubset-translation/1", "lines": out}).encode()


def _run(tmp: Path, episode: Path, **params: Any) -> tuple[common_pb2.StageResult, LocalStore, int]:
    store = LocalStore(tmp / "store")
    stage = TtsStage()
    executor = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "tts"))
    refs = {
        "translation": store.put_bytes("in/translation.json", _translation(episode)),
        "ja_dialogue": store.put_file("in/ja.wav", episode / "ja_dialogue.wav", "audio/wav"),
    }
    request = build_request("tts", "job-1", "ep-1", refs, tts_pb2.TtsParams(**params))
    delivered = deliver_once(executor, request)
    return delivered.result, store, delivered.dead_letters


def test_each_character_gets_a_voice_and_each_line_its_japanese_start(
    episode: Path, tmp_path: Path
) -> None:
    result, store, _ = _run(tmp_path, episode, backend="piper", sample_rate_hz=24000)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    lines = json.loads(store.get_bytes(store.key_of(result.outputs["lines"].uri)))
    voices = {v["speaker"]: v["voice"] for v in lines["voices"]}
    assert len(voices) == 2 and len({v.split("+")[0] for v in voices.values()}) == 2, voices
    assert lines["shared_voices"] == []
    for line in lines["lines"]:
        assert line["voice"] == voices[line["speaker"]]
        if "note" not in line or "late" not in line["note"]:
            assert line["start_ms"] - line["ja_start_ms"] <= 1
        assert line["end_ms"] - line["start_ms"] <= line["budget_ms"]
    speech = store.get_bytes(store.key_of(result.outputs["speech"].uri))
    path = tmp_path / "speech.wav"
    path.write_bytes(speech)
    audio, rate = sf.read(path)
    assert rate == 24000
    assert abs(len(audio) / rate - sf.info(episode / "ja_dialogue.wav").duration) < 0.01
    first = lines["lines"][0]
    before = audio[: first["start_ms"] * rate // 1000 - rate // 100]
    assert np.max(np.abs(before), initial=0.0) == 0.0  # silence until the first line
    again, _, _ = _run(tmp_path, episode, backend="piper", sample_rate_hz=24000)
    assert again.reused and again.output_key == result.output_key


def test_a_pinned_voice_speaks_its_character(episode: Path, tmp_path: Path) -> None:
    truth = json.loads((episode / "truth.json").read_text())
    speaker = truth["lines"][0]["speaker"]
    result, store, _ = _run(
        tmp_path, episode, backend="piper", voices={speaker: "espeak-ng:en-us+f4"}
    )
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    lines = json.loads(store.get_bytes(store.key_of(result.outputs["lines"].uri)))
    assert {v["speaker"]: v["voice"] for v in lines["voices"]}[speaker] == "espeak-ng:en-us+f4"


def test_an_unknown_voice_or_speaker_fails_the_job_with_the_reason(
    episode: Path, tmp_path: Path
) -> None:
    result, _, letters = _run(tmp_path, episode, backend="piper", voices={"S0": "nobody"})
    assert result.status == common_pb2.STAGE_STATUS_FAILED and letters == 1
    assert result.error_code == "INVALID_INPUT" and "unknown voice 'nobody'" in result.error_message
    result, _, _ = _run(tmp_path, episode, backend="piper", voices={"S7": "piper:joe"})
    assert "S7, not a speaker of this episode" in result.error_message


def test_lines_timed_to_the_flaps_start_where_the_mouth_moves(
    episode: Path, tmp_path: Path
) -> None:
    """With the faces stage's faces.json, a line whose speaking face starts to flap near it
    starts there (here 200 ms after the Japanese line), and lines.json says where it moved."""
    translation = json.loads(_translation(episode))
    lines = translation["lines"] = translation["lines"][:3]  # three lines are enough
    speaking = [
        {"clip": i, "speaking_track": 0 if i % 2 == 0 else None,
         "mouth_open": [[x["start_ms"] + 200, x["start_ms"] + 300],
                        [x["start_ms"] + 400, x["end_ms"]]]}
        for i, x in enumerate(lines)
    ]  # fmt: skip
    store = LocalStore(tmp_path / "store")
    executor = StageExecutor(TtsStage(), store, StageMetrics.create(CollectorRegistry(), "tts"))
    refs = {
        "translation": store.put_bytes("in/translation.json", json.dumps(translation).encode()),
        "ja_dialogue": store.put_file("in/ja.wav", episode / "ja_dialogue.wav", "audio/wav"),
        "faces": store.put_bytes("in/faces.json", json.dumps({"speaking": speaking}).encode()),
    }
    request = build_request("tts", "job-1", "ep-1", refs, tts_pb2.TtsParams())
    result = deliver_once(executor, request).result
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    doc = json.loads(store.get_bytes(store.key_of(result.outputs["lines"].uri)))
    by_index = {x["index"]: x for x in doc["lines"]}
    for i, x in enumerate(lines):
        spoken = by_index[i]
        assert (spoken["ja_start_ms"], spoken["ja_end_ms"]) == (x["start_ms"], x["end_ms"])
        if i % 2 == 0:
            assert spoken["flaps"] == [x["start_ms"] + 200, x["end_ms"]]
            assert spoken["start_ms"] >= x["start_ms"] + 199  # (whole samples)
        else:
            assert "flaps" not in spoken
