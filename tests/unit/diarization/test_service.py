"""The diarization stage behind gRPC and behind the stage runner, with fake models."""

from __future__ import annotations

import io
import json
from pathlib import Path

import grpc
import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, diarization_pb2, diarization_pb2_grpc
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from dubset_diarization.config import DiarizationConfig
from dubset_diarization.handler import Backends, DiarizationStage
from dubset_diarization.server import start

from .fakes import SCRIPT, FakeModels, episode


def wav_bytes(x: np.ndarray, rate: int = 16_000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    data = np.stack([x] * channels, axis=1) if channels > 1 else x
    sf.write(buf, data, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def _backends(pyannote_dir: Path | None = None) -> Backends:
    return Backends(DiarizationConfig(pyannote_dir=pyannote_dir), embedded=FakeModels())


def _executor(store: LocalStore, backends: Backends | None = None) -> StageExecutor:
    metrics = StageMetrics.create(CollectorRegistry(), "diarization")
    return StageExecutor(DiarizationStage(backends or _backends()), store, metrics)


def _request(store: LocalStore, audio: bytes, **params: object) -> common_pb2.StageRequest:
    ref = store.put_bytes("in/dialogue.wav", audio, "audio/wav")
    return build_request(
        "diarization", "job-1", "ep-1", {"audio": ref}, diarization_pb2.DiarizationParams(**params)
    )


def test_stage_writes_turns_and_rttm_and_reuses_them(store: LocalStore) -> None:
    executor = _executor(store)
    audio = wav_bytes(episode(SCRIPT, 24_000))
    result = executor.execute(_request(store, audio, language=common_pb2.LANGUAGE_EN))
    turns = json.loads(store.get_bytes(store.key_of(result.outputs["turns"].uri)))
    assert turns["language"] == "en" and turns["speakers"] == [
        "SPEAKER_00",
        "SPEAKER_01",
        "SPEAKER_02",
    ]
    assert len(turns["turns"]) == len(SCRIPT)
    rttm = store.get_bytes(store.key_of(result.outputs["rttm"].uri)).decode().splitlines()
    assert len(rttm) == len(SCRIPT) and rttm[0].startswith("SPEAKER ep-1 1 ")
    assert result.backend == "embedded:silero+resemblyzer"
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["info"]["checksums"] == {"fake": "0" * 64}
    assert manifest["params"]["backend"] == "embedded"
    again = executor.execute(_request(store, audio, language=common_pb2.LANGUAGE_EN))
    assert again.reused and again.output_key == result.output_key
    other = executor.execute(
        _request(store, audio, language=common_pb2.LANGUAGE_EN, num_speakers=2)
    )
    assert other.output_key != result.output_key
    two = json.loads(store.get_bytes(store.key_of(other.outputs["turns"].uri)))
    assert len(two["speakers"]) == 2


def test_stage_output_is_byte_identical_for_stereo_44k(store: LocalStore, tmp_path: Path) -> None:
    x = episode(SCRIPT, 24_000)
    mono = _executor(store).execute(_request(store, wav_bytes(x)))
    other_store = LocalStore(tmp_path / "other")
    t = np.arange(int(len(x) * 44_100 / 16_000)) * 16_000 / 44_100
    x44 = np.interp(t, np.arange(len(x)), x).astype(np.float32)
    stereo = _executor(other_store).execute(_request(other_store, wav_bytes(x44, 44_100, 2)))
    a = json.loads(store.get_bytes(store.key_of(mono.outputs["turns"].uri)))
    b = json.loads(other_store.get_bytes(other_store.key_of(stereo.outputs["turns"].uri)))
    assert a["speakers"] == b["speakers"]
    for ta, tb in zip(a["turns"], b["turns"], strict=True):
        assert ta["speaker"] == tb["speaker"] and abs(ta["start_ms"] - tb["start_ms"]) <= 40


def test_stage_on_silence_and_on_a_tiny_file(store: LocalStore) -> None:
    executor = _executor(store)
    for audio in (wav_bytes(np.zeros(16_000 * 3, np.float32)), wav_bytes(np.zeros(40, np.float32))):
        result = executor.execute(_request(store, audio))
        turns = json.loads(store.get_bytes(store.key_of(result.outputs["turns"].uri)))
        assert turns["turns"] == [] and turns["speakers"] == []


def _fail(store: LocalStore, request: common_pb2.StageRequest) -> common_pb2.StageResult:
    return deliver_once(_executor(store), request).result


def test_corrupt_audio_is_an_invalid_input_job_error(store: LocalStore) -> None:
    result = _fail(store, _request(store, b"RIFF\x00\x00\x00\x00WAVEjunkjunk"))
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT" and "not a readable audio file" in (
        result.error_message
    )
    assert not store.list("stages")


def test_bad_params_are_rejected_before_any_work(store: LocalStore) -> None:
    audio = wav_bytes(np.zeros(1600, np.float32))
    for params, message in (
        ({"min_speakers": 5, "max_speakers": 2}, "greater than max_speakers"),
        ({"backend": "nemo"}, "backend must be one of"),
        ({"num_speakers": 0}, "between 1 and"),
    ):
        result = _fail(store, _request(store, audio, **params))
        assert result.error_code == "INVALID_INPUT" and message in result.error_message


def test_pyannote_requested_without_a_model_dir_fails_loudly(store: LocalStore) -> None:
    result = _fail(
        store, _request(store, wav_bytes(np.zeros(1600, np.float32)), backend="pyannote")
    )
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "CONFIG" and "needs a model directory" in result.error_message


@pytest.fixture
def stub(store: LocalStore) -> diarization_pb2_grpc.DiarizationServiceStub:
    running = start("127.0.0.1:0", store, _backends())
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield diarization_pb2_grpc.DiarizationServiceStub(channel)
    channel.close()
    running.drain(1)


def test_grpc_diarize(store: LocalStore, stub: diarization_pb2_grpc.DiarizationServiceStub) -> None:
    ref = store.put_bytes("in/a.wav", wav_bytes(episode(SCRIPT, 24_000)), "audio/wav")
    audio = common_pb2.MediaRef(uri=store.uri(ref.key), sha256=ref.sha256)
    reply = stub.Diarize(
        diarization_pb2.DiarizeRequest(
            audio=audio, params=diarization_pb2.DiarizationParams(language=common_pb2.LANGUAGE_JA)
        )
    )
    assert list(reply.speakers) == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]
    assert reply.backend == "embedded:silero+resemblyzer" and len(reply.turns) == len(SCRIPT)
    assert all(t.language == common_pb2.LANGUAGE_JA for t in reply.turns)
    assert [t.start_ms for t in reply.turns] == sorted(t.start_ms for t in reply.turns)


def test_grpc_errors(store: LocalStore, stub: diarization_pb2_grpc.DiarizationServiceStub) -> None:
    ref = store.put_bytes("in/bad.wav", b"not audio", "audio/wav")
    with pytest.raises(grpc.RpcError) as err:
        stub.Diarize(
            diarization_pb2.DiarizeRequest(
                audio=common_pb2.MediaRef(uri=store.uri(ref.key), sha256=ref.sha256)
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        stub.Diarize(
            diarization_pb2.DiarizeRequest(
                audio=common_pb2.MediaRef(uri=store.uri(ref.key), sha256="0" * 64)
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as err:
        stub.Diarize(
            diarization_pb2.DiarizeRequest(
                audio=common_pb2.MediaRef(uri=store.uri(ref.key), sha256=ref.sha256),
                params=diarization_pb2.DiarizationParams(backend="pyannote"),
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "model directory" in (err.value.details() or "")
