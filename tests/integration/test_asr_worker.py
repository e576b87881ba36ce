"""The asr worker through the real broker and S3 server: the embedded model, result, replay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dubset.v1 import asr_pb2, common_pb2
from dubset_asr.assemble import default_base_dir
from dubset_common import topics
from dubset_common.kafkabus import KafkaBus
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import Spawn, service_env, stage_results

CLIP = Path(
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
)
WORKER = [sys.executable, "-m", "dubset_asr", "worker"]

pytestmark = pytest.mark.skipif(
    not CLIP.is_file() or not (default_base_dir() / "model.bin").is_file(),
    reason="needs pocketsphinx-testdata and the assembled embedded model",
)


def _cli_output() -> bytes:
    code = "import sys; from dubset_cli import asr; import argparse\n"
    code += "p = argparse.ArgumentParser(); asr.register(p.add_subparsers())\n"
    code += "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
    out = subprocess.run(
        [sys.executable, "-c", code, "asr", str(CLIP), "--lang", "en"],
        check=True,
        capture_output=True,
    )
    return out.stdout


def test_transcript_result_and_replay(
    infra_env: dict[str, str], namespace: str, s3_store: S3Store, kafka_bus: KafkaBus, spawn: Spawn
) -> None:
    bootstrap = infra_env["DUBSET_KAFKA_BOOTSTRAP"]
    prefix = f"{namespace}."
    spawn(WORKER, service_env(infra_env, namespace), "worker")
    audio = s3_store.put_bytes("inputs/en_dialogue.wav", CLIP.read_bytes(), "audio/wav")
    params = asr_pb2.AsrParams(language=common_pb2.LANGUAGE_EN)
    request = build_request("asr", "job-1", "ep-1", {"audio": audio}, params)
    requests_topic, results_topic = topics.requests("asr", prefix), topics.results("asr", prefix)
    kafka_bus.ensure_topics([requests_topic, results_topic])
    for _ in range(2):
        kafka_bus.producer().publish(requests_topic, b"ep-1", request.SerializeToString())
    first, second = stage_results(bootstrap, "asr", prefix, request.request_id, 2, 180.0)
    assert first.status == common_pb2.STAGE_STATUS_OK, first.error_message
    assert first.backend == "faster-whisper:base" and not first.reused
    key = s3_store.key_of(first.outputs["transcript"].uri)
    assert key == f"stages/asr/{first.output_key}/transcript.json"
    assert s3_store.get_bytes(key) == _cli_output()
    manifest = json.loads(s3_store.get_bytes(s3_store.key_of(first.manifest.uri)))
    assert manifest["info"]["vad"] is True and len(manifest["info"]["model_sha256"]) == 64
    assert second.reused and second.outputs["transcript"] == first.outputs["transcript"]
