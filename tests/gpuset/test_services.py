"""Each GPU service (asr, diarization, tts) as the GPU images run it: `python -m dubset_<stage>
serve` in this environment, answering its gRPC health check and one real request (on the CPU
here; --device cuda on a GPU): faster-whisper with the Whisper base model directory, the
pyannote pipeline on the tiny model, YourTTS on the tiny model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

READY_S = 300.0
HEALTH_NAMES = {
    "asr": "dubset.v1.AsrService",
    "diarization": "dubset.v1.DiarizationService",
    "tts": "dubset.v1.TtsService",
}
LANGUAGE = "en"


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@contextmanager
def service(stage: str, store: Path, logs: Path, device: str, **env: str) -> Iterator[str]:
    """The stage's gRPC server as its own process; yields its address once healthy."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    grpc_port, metrics_port = _free_ports(2)
    addr = f"127.0.0.1:{grpc_port}"
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DUBSET_BUS": "inproc",
        "DUBSET_STORE": "local",
        "DUBSET_LOCAL_STORE_DIR": str(store),
        "DUBSET_GRPC_ADDR": addr,
        "DUBSET_METRICS_ADDR": "127.0.0.1",
        "DUBSET_METRICS_PORT": str(metrics_port),
        "DUBSET_DEVICE": device,
        "PYANNOTE_METRICS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    log = logs / f"{stage}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"dubset_{stage}", "serve"],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_S
        name = HEALTH_NAMES[stage]
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{stage} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with grpc.insecure_channel(addr) as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service=name), timeout=2
                    )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{stage} not healthy in {READY_S:.0f} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield addr
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ref(store: Any, path: Path) -> Any:
    from dubset_common.stagerequest import media_ref

    return media_ref(store.put_file(f"in/{path.name}", path, "audio/wav"))


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from dubset_common.objstore import LocalStore

    return LocalStore(tmp_path / "store")


def test_asr_faster_whisper_from_a_model_directory(
    store: Any, episode: Path, tmp_path: Path, device: str
) -> None:
    import grpc

    from dubset.v1 import asr_pb2, asr_pb2_grpc, common_pb2

    audio = _ref(store, episode / f"{LANGUAGE}_dialogue.wav")
    with (
        service("asr", store.root, tmp_path, device) as addr,
        grpc.insecure_channel(addr) as channel,
    ):
        reply = asr_pb2_grpc.AsrServiceStub(channel).Transcribe(
            asr_pb2.TranscribeRequest(
                audio=audio, params=asr_pb2.AsrParams(language=common_pb2.LANGUAGE_EN)
            ),
            timeout=600,
        )
    assert reply.backend == "faster-whisper" and reply.segments
    words = " ".join(s.text for s in reply.segments).split()
    assert len(words) >= 20, words  # 40 s of generated English dialogue


def test_diarization_pyannote_pipeline(
    store: Any, episode: Path, tmp_path: Path, tiny_pyannote: Path, device: str
) -> None:
    import grpc

    from dubset.v1 import common_pb2, diarization_pb2, diarization_pb2_grpc

    audio = _ref(store, episode / f"{LANGUAGE}_dialogue.wav")
    env = {
        "DUBSET_DIARIZATION_BACKEND": "pyannote",
        "DUBSET_DIARIZATION_PYANNOTE_DIR": str(tiny_pyannote),
    }
    with (
        service("diarization", store.root, tmp_path, device, **env) as addr,
        grpc.insecure_channel(addr) as channel,
    ):
        reply = diarization_pb2_grpc.DiarizationServiceStub(channel).Diarize(
            diarization_pb2.DiarizeRequest(
                audio=audio,
                params=diarization_pb2.DiarizationParams(language=common_pb2.LANGUAGE_EN),
            ),
            timeout=600,
        )
    assert reply.backend == "pyannote" and reply.turns and reply.speakers


def test_tts_yourtts_on_the_tiny_model(
    store: Any, episode: Path, tmp_path: Path, device: str
) -> None:
    import grpc

    from dubset.v1 import tts_pb2, tts_pb2_grpc
    from tests.unit.tts.yourtts_model import build

    model = build(tmp_path / "your_tts")
    reference = _ref(store, episode / f"{LANGUAGE}_dialogue.wav")
    with (
        service("tts", store.root, tmp_path, device, DUBSET_TTS_YOURTTS_DIR=str(model)) as addr,
        grpc.insecure_channel(addr) as channel,
    ):
        reply = tts_pb2_grpc.TtsServiceStub(channel).Synthesize(
            tts_pb2.SynthesizeRequest(
                clip_id="gpuset/clip",
                text="We have to hurry.",
                target_duration_ms=1500,
                speaker_reference=reference,
                params=tts_pb2.TtsParams(backend="yourtts", compute_scores=False),
            ),
            timeout=600,
        )
    assert reply.backend.startswith("coqui-tts-") and "yourtts" in reply.backend, reply.backend
    assert reply.audio.duration_ms == 1500
    assert (store.root / store.key_of(reply.audio.uri)).stat().st_size > 1000
