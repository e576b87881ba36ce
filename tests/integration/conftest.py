"""Fixtures for tests against the real broker and S3 server that `make up` starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from dubset.v1 import common_pb2
from dubset_common import topics
from dubset_common.kafkabus import KafkaBus, KafkaOptions
from dubset_common.objstore import S3Store, make_s3_client

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import infra  # noqa: E402

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def infra_env() -> dict[str, str]:
    return infra.ensure_up(Path(os.environ.get("DUBSET_RUN_DIR", ROOT / ".run")))


@pytest.fixture
def namespace() -> str:
    """A unique topic and key prefix per test."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def s3_store(infra_env: dict[str, str], namespace: str) -> S3Store:
    client = make_s3_client(
        infra_env["DUBSET_S3_ENDPOINT"],
        infra_env["DUBSET_S3_REGION"],
        infra_env["DUBSET_S3_ACCESS_KEY"],
        infra_env["DUBSET_S3_SECRET_KEY"],
    )
    return S3Store(client, infra_env["DUBSET_S3_BUCKET"], namespace)


@pytest.fixture
def kafka_bus(infra_env: dict[str, str]) -> KafkaBus:
    return KafkaBus(
        KafkaOptions(
            bootstrap=infra_env["DUBSET_KAFKA_BOOTSTRAP"],
            partitions=2,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
        )
    )


def service_env(infra_env: dict[str, str], namespace: str, **extra: str) -> dict[str, str]:
    """The environment a service process gets: infra addresses, a test namespace, fast groups."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBSET_")}
    env.update(infra_env)
    env.update(
        DUBSET_TOPIC_PREFIX=f"{namespace}.",
        DUBSET_S3_PREFIX=namespace,
        DUBSET_KAFKA_SESSION_TIMEOUT_MS="6000",
        DUBSET_KAFKA_HEARTBEAT_INTERVAL_MS="1000",
        DUBSET_KAFKA_PARTITIONS="2",
        DUBSET_RETRY_BACKOFF_S="0.2",
    )
    env.update(extra)
    return env


Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start processes for a test; whatever is still running at the end is stopped."""
    started: list[subprocess.Popen[bytes]] = []

    def run(argv: list[str], env: dict[str, str], name: str = "proc") -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}-{len(started)}.log").open("wb")
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    yield run
    for proc in started:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to a process this test started, SIGKILL if it has not exited after 15 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_topic(
    bootstrap: str, topic: str, want: Callable[[list[bytes]], bool], timeout_s: float = 60.0
) -> list[bytes]:
    """All values of a topic from the beginning, polled until want(values) or the timeout."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        parts: set[int] | None = None
        while time.monotonic() < deadline:
            parts = consumer.partitions_for_topic(topic)
            if parts:
                break
            time.sleep(0.2)
        if not parts:
            return values
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                values.extend(r.value for r in records)
            if want(values):
                break
    finally:
        consumer.close()
    return values


def publish_request(bus: KafkaBus, prefix: str, request: common_pb2.StageRequest) -> None:
    """Put a request on its stage's namespaced requests topic, keyed by its episode."""
    topic = topics.requests(request.stage, prefix)
    bus.ensure_topics([topic, topics.results(request.stage, prefix)])
    bus.producer().publish(topic, request.episode_id.encode(), request.SerializeToString())


def stage_results(
    bootstrap: str,
    stage: str,
    prefix: str,
    request_id: str,
    count: int = 1,
    timeout_s: float = 240.0,
) -> list[common_pb2.StageResult]:
    """The results of one request on the stage's results topic, once count have arrived."""

    def mine(values: list[bytes]) -> list[common_pb2.StageResult]:
        out = [common_pb2.StageResult.FromString(v) for v in values]
        return [r for r in out if r.request_id == request_id]

    topic = topics.results(stage, prefix)
    return mine(read_topic(bootstrap, topic, lambda v: len(mine(v)) >= count, timeout_s))


@dataclass(frozen=True)
class WorkerProcess:
    """A stage's worker process started for one test, and the test's namespaced topics."""

    stage: str
    bootstrap: str
    prefix: str
    bus: KafkaBus

    def send(self, request: common_pb2.StageRequest) -> None:
        publish_request(self.bus, self.prefix, request)

    def results(
        self, request_id: str, count: int = 1, timeout_s: float = 240.0
    ) -> list[common_pb2.StageResult]:
        return stage_results(self.bootstrap, self.stage, self.prefix, request_id, count, timeout_s)


StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def start_worker(
    infra_env: dict[str, str], namespace: str, kafka_bus: KafkaBus, spawn: Spawn
) -> StartWorker:
    """start_worker(stage, log_name, **settings): `python -m dubset_<stage> worker` in this
    test's namespace, with extra DUBSET_* settings."""

    def start(stage: str, name: str, **settings: str) -> WorkerProcess:
        argv = [sys.executable, "-m", f"dubset_{stage}", "worker"]
        spawn(argv, service_env(infra_env, namespace, **settings), name)
        return WorkerProcess(stage, infra_env["DUBSET_KAFKA_BOOTSTRAP"], f"{namespace}.", kafka_bus)

    return start
