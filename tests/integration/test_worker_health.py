"""The worker's /healthz and /readyz over the real broker: 503 while a stage call is silent."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from dubset.v1 import alignment_pb2, common_pb2
from dubset_common.kafkabus import KafkaBus
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from tests.integration.conftest import Spawn, infra, publish_request, service_env, stage_results

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKER = [sys.executable, "-m", "dubset_alignment", "worker"]
STALL_S, PAUSE_S = 2, 8


def _probe(port: int, path: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _until(
    port: int, path: str, want: Callable[[int, dict[str, object]], bool], timeout_s: float
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    seen: tuple[int, dict[str, object]] = (0, {})
    while time.monotonic() < deadline:
        try:
            seen = _probe(port, path)
        except OSError:  # not listening yet
            time.sleep(0.2)
            continue
        if want(*seen):
            return seen[1]
        time.sleep(0.2)
    raise AssertionError(f"{path} never became what was wanted; last: {seen}")


def test_a_silent_stage_call_makes_the_worker_unhealthy_until_it_returns(
    infra_env: dict[str, str], namespace: str, s3_store: S3Store, kafka_bus: KafkaBus, spawn: Spawn
) -> None:
    port = infra.free_ports(1)[0]
    env = service_env(
        infra_env,
        namespace,
        DUBSET_METRICS_PORT=str(port),
        DUBSET_METRICS_ADDR="127.0.0.1",
        DUBSET_HEALTH_STALL_S=str(STALL_S),
        # The stage sleeps after writing its outputs, before its manifest: a call that blocks
        # without reporting progress.
        DUBSET_DEBUG_PAUSE_BEFORE_MANIFEST_S=str(PAUSE_S),
    )
    worker = spawn(WORKER, env, "worker-health")
    ready = _until(port, "/readyz", lambda code, _: code == 200, 60)
    assert ready["session"] is True and ready["phase"] == "polling"
    assert _probe(port, "/healthz")[0] == 200

    en = s3_store.put_bytes("in/en.json", (EXAMPLES / "en.json").read_bytes(), "application/json")
    ja = s3_store.put_bytes("in/ja.json", (EXAMPLES / "ja.json").read_bytes(), "application/json")
    params = alignment_pb2.AlignmentParams(ja_offset_ms=0)
    request = build_request("alignment", "job-1", "ep-health", {"en": en, "ja": ja}, params)
    started = time.monotonic()
    publish_request(kafka_bus, f"{namespace}.", request)

    stalled = _until(port, "/healthz", lambda code, _: code == 503, 30)
    assert stalled["status"] == "stalled" and stalled["phase"] == "working"
    assert f"(limit {STALL_S} s)" in str(stalled["reason"])
    assert stalled["session"] is True  # the loop kept the group session all along
    code, not_ready = _probe(port, "/readyz")
    assert code == 503 and not_ready["status"] == "stalled"
    assert worker.poll() is None

    (result,) = stage_results(
        infra_env["DUBSET_KAFKA_BOOTSTRAP"], "alignment", f"{namespace}.", request.request_id
    )
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert time.monotonic() - started >= PAUSE_S
    healthy = _until(port, "/healthz", lambda code, _: code == 200, 15)
    assert healthy["status"] == "ok" and healthy["phase"] == "polling"
    assert _probe(port, "/readyz")[0] == 200
