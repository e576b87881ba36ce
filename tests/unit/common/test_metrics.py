"""dubset_<stage>_* metrics: registered in the registry given, and moved by real work."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset_common.bus import InProcBus, partition_for
from dubset_common.metrics import StageMetrics, serve_metrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.testing.stages import BACKEND, STAGE, FakeStage, make_request
from dubset_common.testing.threads import running, wait_for
from dubset_common.worker import StageWorker


def families(registry: CollectorRegistry) -> dict[str, str]:
    return {m.name: m.type for m in registry.collect()}


def test_create_registers_stage_prefixed_series() -> None:
    registry = CollectorRegistry()
    StageMetrics.create(registry, "diarization")
    assert families(registry) == {
        "dubset_diarization_requests": "counter",
        "dubset_diarization_processing_seconds": "histogram",
        "dubset_diarization_handoff_seconds": "histogram",
        "dubset_diarization_retries": "counter",
        "dubset_diarization_dead_letters": "counter",
        "dubset_diarization_inflight": "gauge",
        "dubset_diarization_input_bytes": "counter",
        "dubset_diarization_output_bytes": "counter",
    }


def test_two_stages_share_a_registry_but_not_a_stage_twice() -> None:
    registry = CollectorRegistry()
    StageMetrics.create(registry, "asr")
    StageMetrics.create(registry, "tts")
    with pytest.raises(ValueError, match="Duplicated"):
        StageMetrics.create(registry, "asr")
    # A fresh registry per test or per process avoids the clash.
    StageMetrics.create(CollectorRegistry(), "asr")


@pytest.mark.parametrize(
    "stage", ["", "ASR", "1asr", "asr-v2", "asr.v2", "asr\n", "asr total", "\u00e4sr"]
)
def test_invalid_stage_names_are_rejected(stage: str) -> None:
    registry = CollectorRegistry()
    with pytest.raises(ValueError, match="metric-safe"):
        StageMetrics.create(registry, stage)
    assert families(registry) == {}


def _run_requests(tmp_path: Path, stage: FakeStage, n_ok: int = 1) -> CollectorRegistry:
    registry = CollectorRegistry()
    store = LocalStore(tmp_path / "store")
    bus = InProcBus()
    executor = StageExecutor(stage, store, StageMetrics.create(registry, STAGE))
    worker = StageWorker(executor, bus, max_attempts=2, backoff_s=0.01, poll_timeout_s=0.02)
    producer = bus.producer()
    with running(worker):
        for i in range(n_ok):
            request = make_request(store, request_id=f"r{i}")
            producer.publish(worker.requests_topic, b"ep-1", request.SerializeToString())
        producer.publish(worker.requests_topic, b"ep-1", b"\xff garbage")
        part = partition_for(b"ep-1", bus.partitions)
        wait_for(lambda: bus.committed(worker.group, worker.requests_topic, part) == n_ok + 1)
    return registry


def test_values_move_when_the_worker_handles_requests(tmp_path: Path) -> None:
    registry = _run_requests(tmp_path, FakeStage(transient=1), n_ok=2)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(f"dubset_{STAGE}_{name}", labels)

    assert value("requests_total", outcome="ok", backend=BACKEND) == 1
    assert value("requests_total", outcome="reused", backend=BACKEND) == 1
    assert value("processing_seconds_count") == 1  # reused work is not timed as work
    assert value("handoff_seconds_count") == 2
    assert value("retries_total") == 1
    assert value("dead_letters_total") == 1  # the garbage message
    assert value("inflight") == 0
    assert value("output_bytes_total") == len(b"HELLO") + len(b'{"len": 5}')


def test_failures_are_counted(tmp_path: Path) -> None:
    registry = _run_requests(tmp_path, FakeStage(invalid=True), n_ok=1)
    assert (
        registry.get_sample_value(
            f"dubset_{STAGE}_requests_total", {"outcome": "failed", "backend": ""}
        )
        == 1
    )
    assert registry.get_sample_value(f"dubset_{STAGE}_dead_letters_total") == 2


def test_input_bytes_are_counted(tmp_path: Path) -> None:
    registry = _run_requests(tmp_path, FakeStage(), n_ok=1)
    assert registry.get_sample_value(f"dubset_{STAGE}_input_bytes_total") == len(b"hello")


def test_serve_metrics_exposes_the_registry() -> None:
    registry = CollectorRegistry()
    metrics = StageMetrics.create(registry, "alignment")
    metrics.retries.inc(3)
    port = serve_metrics(registry, 0, "127.0.0.1")
    assert port > 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        body = resp.read().decode()
    assert "dubset_alignment_retries_total 3.0" in body
