"""The translation stage through the stage runner and behind gRPC, on a generated episode:
official subtitles paired with the recognised lines, and Whisper's speech translation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry
from scipy.signal import resample_poly

from dubset.v1 import common_pb2, translation_pb2, translation_pb2_grpc
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.subtitles import Cue, to_srt
from dubset_common.testing.stages import deliver_once
from dubset_translation.core.assemble import not_english
from dubset_translation.handler import TranslationStage
from dubset_translation.server import start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def episode(dub_episode: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared dubbing episode with its JA dialogue at 16 kHz (the separation's rate)."""
    out = tmp_path_factory.mktemp("ep16k")
    for name in ("truth.json", "ja_dialogue.wav"):
        (out / name).symlink_to(dub_episode / name)
    audio, rate = sf.read(out / "ja_dialogue.wav", always_2d=True)
    mono = resample_poly(audio.mean(axis=1), 16000, rate)
    sf.write(out / "ja_16k.wav", mono.astype(np.float32), 16000, subtype="PCM_16")
    return out


def _truth_lines(episode: Path) -> list[dict[str, Any]]:
    truth = json.loads((episode / "truth.json").read_text())
    return sorted(truth["lines"], key=lambda line: line["ja"]["start_ms"])


def _transcript(episode: Path) -> bytes:
    """The JA lines as an ASR transcript would have them (the truth's times and text)."""
    segs = [
        {"start_ms": line["ja"]["start_ms"], "end_ms": line["ja"]["end_ms"],
         "text": line["ja"]["text"]}
        for line in _truth_lines(episode)
    ]  # fmt: skip
    return json.dumps({"language": "ja", "segments": segs}).encode()


def _subtitles(episode: Path) -> bytes:
    """The EN lines as official subtitles of the JA video: on its timeline, shown early."""
    cues = [
        Cue(max(0, line["ja"]["start_ms"] - 300), line["ja"]["end_ms"] + 400, line["en"]["text"])
        for line in _truth_lines(episode)
    ]
    return to_srt(cues).encode()


def _run(
    tmp: Path, inputs: Mapping[str, tuple[bytes | Path, str]], **params: Any
) -> tuple[common_pb2.StageResult, LocalStore, int]:
    store = LocalStore(tmp / "store")
    executor = StageExecutor(
        TranslationStage(), store, StageMetrics.create(CollectorRegistry(), "translation")
    )
    refs = {}
    for name, (data, mime) in inputs.items():
        if isinstance(data, Path):
            refs[name] = store.put_file(f"in/{data.name}", data, mime)
        else:
            refs[name] = store.put_bytes(f"in/{name}", data, mime)
    request = build_request(
        "translation", "job-1", "ep-1", refs, translation_pb2.TranslationParams(**params)
    )
    delivered = deliver_once(executor, request)
    return delivered.result, store, delivered.dead_letters


def _lines(store: LocalStore, result: common_pb2.StageResult) -> list[dict[str, Any]]:
    doc = json.loads(store.get_bytes(store.key_of(result.outputs["translation"].uri)))
    assert doc["format"] == "dubset-translation/1"
    lines: list[dict[str, Any]] = doc["lines"]
    return lines


def test_official_subtitles_translate_each_line(episode: Path, tmp_path: Path) -> None:
    inputs = {
        "ja": (_transcript(episode), "application/json"),
        "subtitles": (_subtitles(episode), "text/plain"),
    }
    result, store, _ = _run(tmp_path, inputs)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    lines = _lines(store, result)
    truth = _truth_lines(episode)
    assert [line["en_text"] for line in lines] == [t["en"]["text"] for t in truth]
    assert all(line["source"] == "subtitles" and line["budget_ms"] > 0 for line in lines)
    again, _, _ = _run(tmp_path, inputs)
    assert again.output_key == result.output_key  # replayed: the same stored result


def test_whisper_translates_the_japanese_speech(episode: Path, tmp_path: Path) -> None:
    inputs: dict[str, tuple[bytes | Path, str]] = {
        "ja": (_transcript(episode), "application/json"),
        "ja_dialogue": (episode / "ja_16k.wav", "audio/wav"),
    }
    result, store, _ = _run(tmp_path, inputs, backend="whisper")
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert result.backend == "whisper-translate:base"
    lines = _lines(store, result)
    assert len(lines) == len(_truth_lines(episode))
    assert all(line["source"] == "whisper" and not_english(line["en_text"]) is None
               for line in lines)  # fmt: skip


@pytest.mark.parametrize(
    ("params", "inputs", "reason"),
    [
        ({"backend": "subtitles"}, {}, "needs English subtitles"),
        ({"backend": "whisper"}, {}, "needs the audio"),
        ({"backend": "deepl"}, {}, "unknown translation backend"),
        ({"backend": "openai", "model": "m", "endpoint": "file:///etc/passwd"}, {}, "http(s)"),
        ({}, {"subtitles": (b'{"not": "subtitles"}', "text/plain")}, "not subtitles"),
        ({}, {"ja": (b'{"segments": []}', "application/json")}, "no recognised Japanese speech"),
    ],
)
def test_what_cannot_be_translated_fails_the_job_with_the_reason(
    episode: Path, tmp_path: Path, params: dict[str, str],
    inputs: Mapping[str, tuple[bytes, str]], reason: str,
) -> None:  # fmt: skip
    all_inputs = {"ja": (_transcript(episode), "application/json"), **inputs}
    result, store, letters = _run(tmp_path, all_inputs, **params)
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT" and reason in result.error_message
    assert letters == 1 and not store.list("stages")


def test_grpc_translates_inline_subtitles(episode: Path) -> None:
    running = start("127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    stub = translation_pb2_grpc.TranslationServiceStub(channel)
    segs = json.loads(_transcript(episode))["segments"]
    request = translation_pb2.TranslateRequest(
        ja=[common_pb2.Segment(**s) for s in segs], subtitles=_subtitles(episode).decode()
    )
    try:
        reply = stub.Translate(request, timeout=30)
        assert reply.backend == "subtitles" and len(reply.lines) == len(segs)
        with pytest.raises(grpc.RpcError) as err:
            stub.Translate(translation_pb2.TranslateRequest(
                ja=request.ja, params=translation_pb2.TranslationParams(backend="whisper")
            ), timeout=30)  # fmt: skip
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        channel.close()
        running.drain(1)
