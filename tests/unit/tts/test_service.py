"""The tts service in-process: gRPC Synthesize over a local store, and the Kafka worker path
over the in-process bus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, tts_pb2, tts_pb2_grpc
from dubset_common.bus import InProcBus
from dubset_common.config import Settings
from dubset_common.objstore import LocalStore
from dubset_common.stagerequest import media_ref
from dubset_tts.server import start
from dubset_tts.worker import build_worker
from tests.unit.tts.test_handler import EPISODE, fake_models, request, write_episode

RATE = 16_000


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def stub(store: LocalStore) -> Iterator[tts_pb2_grpc.TtsServiceStub]:
    running = start("127.0.0.1:0", store, CollectorRegistry(), fake_models())
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield tts_pb2_grpc.TtsServiceStub(channel)
    channel.close()
    running.drain(1)


def _wav(store: LocalStore, tmp: Path, name: str, samples: np.ndarray) -> common_pb2.MediaRef:
    path = tmp / f"{name}.wav"
    sf.write(path, samples.astype(np.float32), RATE, subtype="PCM_16")
    return media_ref(store.put_file(f"in/{name}.wav", path, "audio/wav"))


def _voice(seconds: float, f0: float = 180.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * f0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))


def test_synthesize_stores_the_dub_and_the_dry_speech(
    stub: tts_pb2_grpc.TtsServiceStub, store: LocalStore, tmp_path: Path
) -> None:
    reference = _wav(store, tmp_path, "ref", _voice(2.5))
    backing = _wav(store, tmp_path, "backing", 0.05 * np.sin(np.arange(3 * RATE) * 0.02))
    request = tts_pb2.SynthesizeRequest(
        clip_id="ab/clip",
        text="We have to hurry.",
        target_duration_ms=2400,
        speaker_reference=reference,
        backing=backing,
    )
    reply = stub.Synthesize(request)
    assert (reply.clip_id, reply.text, reply.backend) == (
        "ab/clip",
        "We have to hurry.",
        "tone-voice-1",
    )
    assert reply.translation_backend == "reference" and reply.voice.startswith("tone:")
    assert reply.natural_duration_ratio > 0
    assert reply.scores.HasField("dnsmos") and reply.scores.HasField("speaker_similarity")
    for ref in (reply.audio, reply.speech):
        key = store.key_of(ref.uri)
        assert key.startswith("stages/tts/synth/") and ref.mime == "audio/wav"
        data, rate = sf.read(store.root / key)
        assert rate == 44_100 and abs(len(data) / rate * 1000 - 2400) <= 1
        assert ref.duration_ms == 2400 and ref.size_bytes == (store.root / key).stat().st_size
    mix, _ = sf.read(store.root / store.key_of(reply.audio.uri))
    dry, _ = sf.read(store.root / store.key_of(reply.speech.uri))
    assert np.abs(mix - dry).max() > 0.01  # the backing is under the mix only

    again = stub.Synthesize(request)
    assert again.audio == reply.audio and again.speech == reply.speech
    assert len(store.list("stages/tts/synth")) == 3  # audio, speech, manifest: written once


def test_synthesize_without_target_lasts_as_long_as_the_speech(
    stub: tts_pb2_grpc.TtsServiceStub,
) -> None:
    reply = stub.Synthesize(
        tts_pb2.SynthesizeRequest(
            text="Hello there, how are you?",
            params=tts_pb2.TtsParams(sample_rate_hz=22_050, compute_scores=False),
        )
    )
    natural_ms = round(len("Hello there, how are you?") * 65)  # the tone voice's pace
    assert abs(reply.audio.duration_ms - natural_ms) <= 5
    assert not reply.scores.HasField("dnsmos") and reply.scores.HasField("duration_ratio")


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (tts_pb2.SynthesizeRequest(), "no English text"),
        (
            tts_pb2.SynthesizeRequest(
                text="hi", params=tts_pb2.TtsParams(translation_backend="whisper")
            ),
            "needs the clip's JA audio",
        ),
        (
            tts_pb2.SynthesizeRequest(text="hi", backing=common_pb2.MediaRef(uri="x", sha256="0")),
            "backing has no valid sha256",
        ),
        (tts_pb2.SynthesizeRequest(text="hi", target_duration_ms=-5), "must not be negative"),
        (
            tts_pb2.SynthesizeRequest(text="hi", params=tts_pb2.TtsParams(backend="nope")),
            "unknown backend",
        ),
    ],
)
def test_synthesize_bad_requests_are_invalid_argument(
    stub: tts_pb2_grpc.TtsServiceStub, request_: tts_pb2.SynthesizeRequest, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.Synthesize(request_)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason in (err.value.details() or "")


def test_synthesize_missing_model_is_failed_precondition(store: LocalStore) -> None:
    from dubset_tts.models import Models

    running = start("127.0.0.1:0", store, None, Models())
    try:
        with (
            grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel,
            pytest.raises(grpc.RpcError) as err,
        ):
            tts_pb2_grpc.TtsServiceStub(channel).Synthesize(
                tts_pb2.SynthesizeRequest(text="hi", params=tts_pb2.TtsParams(backend="yourtts"))
            )
    finally:
        running.drain(1)
    assert err.value.code() != grpc.StatusCode.INVALID_ARGUMENT
    assert "yourtts needs a model directory" in (err.value.details() or "")


def _drain(worker, bus: InProcBus) -> list[common_pb2.StageResult]:  # type: ignore[no-untyped-def]
    consumer = bus.consumer([worker.requests_topic], worker.group)
    while records := consumer.poll(0.1):
        for record in records:
            worker.handle(record, consumer, bus.producer())
    return [common_pb2.StageResult.FromString(r.value) for r in bus.records(worker.results_topic)]


def test_worker_answers_on_the_results_topic(store: LocalStore, tmp_path: Path) -> None:
    bus = InProcBus()
    settings = Settings(bus="inproc", store="local", retry_backoff_s=0.01)
    worker = build_worker(settings, store, bus, CollectorRegistry(), fake_models())
    files = write_episode(tmp_path / "ep")
    good = request(store, files)
    bad = request(store, files, tts_pb2.TtsParams(dataset="ds", sample_rate_hz=1))
    for r in (good, bad):
        bus.producer().publish(worker.requests_topic, EPISODE.encode(), r.SerializeToString())
    ok, failed = _drain(worker, bus)
    assert ok.status == common_pb2.STAGE_STATUS_OK and ok.backend == "tone-voice-1"
    frag = json.loads(store.get_bytes(store.key_of(ok.outputs["baseline"].uri)))
    assert len(frag["files"]) == 3
    assert failed.status == common_pb2.STAGE_STATUS_FAILED
    assert failed.error_code == "INVALID_INPUT" and "sample_rate_hz" in failed.error_message
