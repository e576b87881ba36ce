"""The asr stage behind the stage runner and gRPC, with a test-double backend."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import grpc
import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import asr_pb2, asr_pb2_grpc, common_pb2
from dubset_asr.core.model import (
    AsrBackend,
    BackendFailedError,
    DecodeOptions,
    ModelUnavailableError,
    ProgressHook,
    RawWord,
    Transcript,
)
from dubset_asr.core.words import build_segment
from dubset_asr.handler import AsrStage
from dubset_asr.server import start
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from tests.unit.service_process import run_without_settings


class EchoBackend:
    """Says one word per second of audio: enough to see the wiring, no model."""

    name = "echo"
    model = "one"

    def __init__(self) -> None:
        self.calls: list[tuple[str, DecodeOptions]] = []

    def info(self) -> Mapping[str, object]:
        return {"model": self.model, "model_sha256": "0" * 64}

    def transcribe(
        self, audio: Path, language: str, options: DecodeOptions, hook: ProgressHook
    ) -> Transcript:
        self.calls.append((language, options))
        seconds = int(sf.info(str(audio)).duration)
        space = "" if language == "ja" else " "  # Whisper spaces English words, not Japanese
        words = [RawWord(f"{space}w{i}", i, i + 0.5, 0.9) for i in range(seconds)]
        seg = build_segment(words)
        hook(1.0, "done")
        return Transcript(language, (seg,) if seg else (), seconds * 1000)


def _loader(backend: AsrBackend) -> object:
    def load(name: str, model: str) -> AsrBackend:
        if name == "aws-transcribe":
            raise ModelUnavailableError("aws-transcribe needs DUBSET_ASR_AWS_BUCKET")
        if model == "flaky":
            raise BackendFailedError("throttled", retryable=True)
        return backend

    return load


def _wav(tmp: Path, seconds: int = 3) -> bytes:
    path = tmp / "in.wav"
    sf.write(path, np.zeros(seconds * 16_000, np.float32), 16_000)
    return path.read_bytes()


def _setup(tmp: Path) -> tuple[StageExecutor, LocalStore, EchoBackend]:
    store = LocalStore(tmp / "store")
    backend = EchoBackend()
    stage = AsrStage(_loader(backend))  # type: ignore[arg-type]
    metrics = StageMetrics.create(CollectorRegistry(), "asr")
    return StageExecutor(stage, store, metrics), store, backend


def _request(store: LocalStore, wav: bytes, **params: object) -> common_pb2.StageRequest:
    ref = store.put_bytes("in/ja_dialogue.wav", wav, "audio/wav")
    return build_request("asr", "job-1", "ep-1", {"audio": ref}, asr_pb2.AsrParams(**params))


def test_stage_writes_transcript_json_with_backend_and_reuses_it(tmp_path: Path) -> None:
    executor, store, backend = _setup(tmp_path)
    wav = _wav(tmp_path)
    result = executor.execute(_request(store, wav, language=common_pb2.LANGUAGE_JA))
    assert result.status == common_pb2.STAGE_STATUS_OK and result.backend == "echo:one"
    out = json.loads(store.get_bytes(store.key_of(result.outputs["transcript"].uri)))
    assert out["language"] == "ja" and out["segments"][0]["text"] == "w0w1w2"
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["info"]["vad"] == "n/a" and manifest["info"]["model_sha256"] == "0" * 64
    assert manifest["params"]["model"] == "base" and manifest["params"]["vad"] is True
    assert backend.calls == [("ja", DecodeOptions())]
    again = executor.execute(_request(store, wav, language=common_pb2.LANGUAGE_JA))
    assert again.reused and len(backend.calls) == 1
    assert result.facts.segments == again.facts.segments == len(out["segments"])
    other = executor.execute(_request(store, wav, language=common_pb2.LANGUAGE_JA, vad=False))
    assert not other.reused and backend.calls[-1] == ("ja", DecodeOptions(vad=False))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "language is required"),
        ({"language": common_pb2.LANGUAGE_EN, "backend": "kaldi"}, "unknown backend"),
        ({"language": common_pb2.LANGUAGE_EN, "model": "../x"}, "model must be a name"),
        ({"language": common_pb2.LANGUAGE_EN, "beam_size": 0}, "beam_size"),
        ({"language": common_pb2.LANGUAGE_EN, "temperature": 0.5}, "temperature 0"),
        ({"language": common_pb2.LANGUAGE_EN, "backend_options": {"a": "b"}}, "backend_options"),
    ],
)
def test_bad_params_fail_the_job_without_writing(
    tmp_path: Path, params: dict[str, object], message: str
) -> None:
    executor, store, _backend = _setup(tmp_path)
    result = deliver_once(executor, _request(store, _wav(tmp_path), **params)).result
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT" and message in result.error_message
    assert not store.list("stages")


def test_unloadable_backend_is_a_config_error_not_a_fallback(tmp_path: Path) -> None:
    executor, store, backend = _setup(tmp_path)
    request = _request(
        store, _wav(tmp_path), language=common_pb2.LANGUAGE_EN, backend="aws-transcribe"
    )
    with pytest.raises(Exception, match="DUBSET_ASR_AWS_BUCKET") as err:
        executor.execute(request)
    assert getattr(err.value, "code", "") == "CONFIG" and backend.calls == []
    flaky = _request(store, _wav(tmp_path), language=common_pb2.LANGUAGE_EN, model="flaky")
    with pytest.raises(Exception, match="throttled") as err:
        executor.execute(flaky)
    assert getattr(err.value, "retryable", False)


def test_corrupted_audio_reference_is_an_integrity_error(tmp_path: Path) -> None:
    executor, store, _backend = _setup(tmp_path)
    request = _request(store, _wav(tmp_path), language=common_pb2.LANGUAGE_JA)
    store.put_bytes("in/ja_dialogue.wav", _wav(tmp_path, 2), "audio/wav")
    with pytest.raises(Exception, match="does not match its sha256"):
        executor.execute(request)


def test_grpc_transcribe_and_errors(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    ref = store.put_bytes("in/a.wav", _wav(tmp_path, 2), "audio/wav")
    running = start("127.0.0.1:0", store, CollectorRegistry(), _loader(EchoBackend()))  # type: ignore[arg-type]
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            client = asr_pb2_grpc.AsrServiceStub(channel)
            audio = common_pb2.MediaRef(uri=ref.uri, sha256=ref.sha256)
            reply = client.Transcribe(
                asr_pb2.TranscribeRequest(
                    audio=audio, params=asr_pb2.AsrParams(language=common_pb2.LANGUAGE_EN)
                )
            )
            assert reply.language == common_pb2.LANGUAGE_EN and reply.backend == "echo"
            assert reply.segments[0].text == "w0 w1" and len(reply.segments[0].words) == 2
            assert reply.audio_duration_ms == 2000
            with pytest.raises(grpc.RpcError) as err:
                client.Transcribe(asr_pb2.TranscribeRequest(audio=audio))
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        running.drain(1)


def test_service_without_required_settings_stops_with_a_clear_message() -> None:
    out = run_without_settings("dubset_asr")
    assert out.returncode == 2
    assert "DUBSET_KAFKA_BOOTSTRAP is required" in out.stderr
