"""The alignment worker through the real broker and S3 server: results, replays, SIGKILL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from dubset.v1 import alignment_pb2, common_pb2
from dubset_common import topics
from dubset_common.kafkabus import KafkaBus
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import Spawn, infra, read_topic, service_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WORKER = [sys.executable, "-m", "dubset_alignment", "worker"]


def _expected_clips() -> bytes:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dubset_cli.main",
            "align",
            "--en",
            str(EXAMPLES / "en.json"),
            "--ja",
            str(EXAMPLES / "ja.json"),
        ],
        check=True,
        capture_output=True,
    )
    return out.stdout


def _request(store: S3Store, episode: str = "ep-1") -> common_pb2.StageRequest:
    en = store.put_bytes("inputs/en.json", (EXAMPLES / "en.json").read_bytes(), "application/json")
    ja = store.put_bytes("inputs/ja.json", (EXAMPLES / "ja.json").read_bytes(), "application/json")
    params = alignment_pb2.AlignmentParams(ja_offset_ms=0)
    return build_request("alignment", "job-1", episode, {"en": en, "ja": ja}, params)


def _publish(bus: KafkaBus, prefix: str, request: common_pb2.StageRequest) -> None:
    """Put a request on the namespaced alignment requests topic, keyed by its episode."""
    topic = topics.requests("alignment", prefix)
    bus.ensure_topics([topic, topics.results("alignment", prefix)])
    producer = bus.producer()
    producer.publish(topic, request.episode_id.encode(), request.SerializeToString())


def _results(
    bootstrap: str, topic: str, request_id: str, count: int, timeout_s: float = 60.0
) -> list[common_pb2.StageResult]:
    def parse(values: list[bytes]) -> list[common_pb2.StageResult]:
        out = [common_pb2.StageResult.FromString(v) for v in values]
        return [r for r in out if r.request_id == request_id]

    values = read_topic(bootstrap, topic, lambda v: len(parse(v)) >= count, timeout_s)
    return parse(values)


def _snapshot(store: S3Store) -> dict[str, tuple[str, str]]:
    """Every object under the test prefix with its ETag and LastModified."""
    s3 = store._s3
    out = {}
    for key in store.list(""):
        head = s3.head_object(Bucket=store.bucket, Key=f"{store.prefix}/{key}")
        out[key] = (head["ETag"], str(head["LastModified"]))
    return out


def test_request_result_replay(
    infra_env: dict[str, str], namespace: str, s3_store: S3Store, kafka_bus: KafkaBus, spawn: Spawn
) -> None:
    bootstrap = infra_env["DUBSET_KAFKA_BOOTSTRAP"]
    prefix = f"{namespace}."
    spawn(WORKER, service_env(infra_env, namespace), "worker")
    request = _request(s3_store)
    _publish(kafka_bus, prefix, request)

    (result,) = _results(bootstrap, topics.results("alignment", prefix), request.request_id, 1)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert not result.reused and result.backend == "anim400k-recursive-merge"
    clips_key = s3_store.key_of(result.outputs["clips"].uri)
    assert clips_key == f"stages/alignment/{result.output_key}/clips.json"
    assert s3_store.get_bytes(clips_key) == _expected_clips()
    manifest = json.loads(s3_store.get_bytes(s3_store.key_of(result.manifest.uri)))
    assert manifest["outputs"]["clips"]["sha256"] == result.outputs["clips"].sha256
    before = _snapshot(s3_store)

    # The same message again (a replay), then the same work under a new request id.
    _publish(kafka_bus, prefix, request)
    again = _results(bootstrap, topics.results("alignment", prefix), request.request_id, 2)
    assert len(again) == 2 and again[1].reused
    assert again[1].outputs["clips"] == result.outputs["clips"]
    assert again[1].output_key == result.output_key
    assert _snapshot(s3_store) == before


def test_sigkill_mid_request_then_restart_finishes_exactly_once(
    infra_env: dict[str, str], namespace: str, s3_store: S3Store, kafka_bus: KafkaBus, spawn: Spawn
) -> None:
    bootstrap = infra_env["DUBSET_KAFKA_BOOTSTRAP"]
    prefix = f"{namespace}."
    results_topic = topics.results("alignment", prefix)
    slow = service_env(infra_env, namespace, DUBSET_DEBUG_PAUSE_BEFORE_MANIFEST_S="30")
    first = spawn(WORKER, slow, "worker-slow")
    request = _request(s3_store, "ep-kill")
    _publish(kafka_bus, prefix, request)

    # Wait until the worker is inside the request: outputs written, manifest not yet.
    deadline = time.monotonic() + 60
    while not any(k.endswith("clips.json") for k in s3_store.list("stages")):
        assert time.monotonic() < deadline, "worker never started the request"
        assert first.poll() is None, "worker died"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    keys = s3_store.list("stages")
    assert not any(k.endswith("_manifest.json") for k in keys)
    assert _results(bootstrap, results_topic, request.request_id, 1, timeout_s=3) == []

    spawn(WORKER, service_env(infra_env, namespace), "worker-restarted")
    results = _results(bootstrap, results_topic, request.request_id, 1, timeout_s=90)
    assert len(results) == 1 and results[0].status == common_pb2.STAGE_STATUS_OK
    # A little longer: no second result for the same request arrives.
    assert len(_results(bootstrap, results_topic, request.request_id, 2, timeout_s=5)) == 1
    stage_keys = s3_store.list("stages")
    assert sorted(k.rsplit("/", 1)[1] for k in stage_keys) == ["_manifest.json", "clips.json"]
    assert s3_store.get_bytes(s3_store.key_of(results[0].outputs["clips"].uri)) == _expected_clips()


def test_work_longer_than_max_poll_interval_is_done_once(
    infra_env: dict[str, str], namespace: str, s3_store: S3Store, kafka_bus: KafkaBus, spawn: Spawn
) -> None:
    """The worker keeps polling (paused) while it works, so the group never evicts it."""
    bootstrap = infra_env["DUBSET_KAFKA_BOOTSTRAP"]
    prefix = f"{namespace}."
    results_topic = topics.results("alignment", prefix)
    env = service_env(
        infra_env,
        namespace,
        DUBSET_KAFKA_MAX_POLL_INTERVAL_MS="6000",
        DUBSET_DEBUG_PAUSE_BEFORE_MANIFEST_S="15",
    )
    spawn(WORKER, env, "worker-long")
    request = _request(s3_store, "ep-long")
    _publish(kafka_bus, prefix, request)
    results = _results(bootstrap, results_topic, request.request_id, 1, timeout_s=90)
    assert len(results) == 1 and not results[0].reused
    # Had the group evicted the worker, the request would come back and be answered again.
    assert len(_results(bootstrap, results_topic, request.request_id, 2, timeout_s=12)) == 1


def test_prometheus_scrapes_the_worker_metrics(
    infra_env: dict[str, str], namespace: str, s3_store: S3Store, kafka_bus: KafkaBus, spawn: Spawn
) -> None:
    port = infra.free_ports(1)[0]
    env = service_env(
        infra_env, namespace, DUBSET_METRICS_PORT=str(port), DUBSET_METRICS_ADDR="127.0.0.1"
    )
    spawn(WORKER, env, "worker-metrics")
    run_dir = Path(infra_env["DUBSET_PROM_TARGETS_DIR"]).parent
    infra.register_scrape_target(namespace, f"127.0.0.1:{port}", run_dir)
    try:
        prefix = f"{namespace}."
        request = _request(s3_store, "ep-metrics")
        _publish(kafka_bus, prefix, request)
        query = f'sum(dubset_alignment_requests_total{{service="{namespace}",outcome="ok"}})'
        deadline = time.monotonic() + 60
        value = 0.0
        while time.monotonic() < deadline and value < 1:
            value = _prom_value(infra_env["DUBSET_PROMETHEUS_URL"], query)
            time.sleep(1)
        assert value == 1
    finally:
        infra.unregister_scrape_target(namespace, run_dir)


def _prom_value(base: str, query: str) -> float:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=5) as reply:
        body = json.load(reply)
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0
