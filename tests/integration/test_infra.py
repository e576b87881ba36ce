"""The local servers of `make up` answer like the real ones: S3 with auth, Kafka, Prometheus."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry, Counter, start_http_server

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
infra = importlib.import_module("infra")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return dict(infra.ensure_up(Path(os.environ.get("DUBSET_RUN_DIR", REPO / ".run"))))


def s3(env: dict[str, str], secret: str | None = None) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=env["DUBSET_S3_ENDPOINT"],
        region_name=env["DUBSET_S3_REGION"],
        aws_access_key_id=env["DUBSET_S3_ACCESS_KEY"],
        aws_secret_access_key=secret or env["DUBSET_S3_SECRET_KEY"],
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def poll_values(consumer: KafkaConsumer, count: int, timeout: float = 30.0) -> list[bytes]:
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(values) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            values += [record.value for record in records]
    return values


def prom_query(env: dict[str, str], query: str) -> list[dict[str, Any]]:
    url = f"{env['DUBSET_PROMETHEUS_URL']}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success"
    return list(body["data"]["result"])


def test_s3_put_get_with_the_right_keys(env: dict[str, str]) -> None:
    client, key = s3(env), f"test-infra/{uuid.uuid4().hex}"
    client.put_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key, Body=b"payload")
    try:
        got = client.get_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key)["Body"].read()
        assert got == b"payload"
    finally:
        client.delete_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key)


def test_s3_refuses_a_wrong_secret(env: dict[str, str]) -> None:
    key = f"test-infra/{uuid.uuid4().hex}"
    with pytest.raises(ClientError) as refused:
        s3(env, secret="not-the-secret").put_object(
            Bucket=env["DUBSET_S3_BUCKET"], Key=key, Body=b"x"
        )
    assert refused.value.response["Error"]["Code"] in {"SignatureDoesNotMatch", "AccessDenied"}
    with pytest.raises(ClientError):
        s3(env, secret="not-the-secret").list_objects_v2(Bucket=env["DUBSET_S3_BUCKET"])


def test_s3_refuses_anonymous_reads(env: dict[str, str]) -> None:
    url = f"{env['DUBSET_S3_ENDPOINT']}/{env['DUBSET_S3_BUCKET']}/"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 403


def test_kafka_produce_then_consume(env: dict[str, str]) -> None:
    topic, bootstrap = f"test-infra-{uuid.uuid4().hex}", env["DUBSET_KAFKA_BOOTSTRAP"]
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for index in range(3):
        producer.send(topic, f"m{index}".encode(), partition=0).get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    try:
        assert poll_values(consumer, 3) == [b"m0", b"m1", b"m2"]
    finally:
        consumer.close()


def group_consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )


def test_kafka_consumer_group_resumes_from_its_commit(env: dict[str, str]) -> None:
    topic, group = f"test-infra-{uuid.uuid4().hex}", f"g-{uuid.uuid4().hex}"
    bootstrap = env["DUBSET_KAFKA_BOOTSTRAP"]
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(topic, b"first", partition=0).get(timeout=10)
    first = group_consumer(bootstrap, topic, group)
    assert poll_values(first, 1) == [b"first"]
    first.commit()
    first.close()
    producer.send(topic, b"second", partition=0).get(timeout=10)
    producer.close()
    second = group_consumer(bootstrap, topic, group)
    try:
        assert poll_values(second, 1) == [b"second"]
    finally:
        second.close()


def test_prometheus_answers_a_query(env: dict[str, str]) -> None:
    samples = prom_query(env, 'up{job="prometheus"}')
    assert any(sample["value"][1] == "1" for sample in samples)


@pytest.fixture
def metrics_endpoint() -> Iterator[str]:
    registry = CollectorRegistry()
    Counter("dubset_infra_test", "test counter", registry=registry).inc(7)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_prometheus_scrapes_a_registered_target(env: dict[str, str], metrics_endpoint: str) -> None:
    name = f"test-infra-{uuid.uuid4().hex[:8]}"
    run_dir = Path(env["DUBSET_PROM_TARGETS_DIR"]).parent
    infra.register_scrape_target(name, metrics_endpoint, run_dir)
    try:
        deadline, samples = time.monotonic() + 30, list[dict[str, Any]]()
        while not samples and time.monotonic() < deadline:
            samples = prom_query(env, f'dubset_infra_test_total{{job="dubset",service="{name}"}}')
            time.sleep(0.5)
        assert samples and samples[0]["value"][1] == "7"
    finally:
        infra.unregister_scrape_target(name, run_dir)


def test_services_keep_the_numeric_settings_but_not_stray_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OPENBLAS_CORETYPE chooses the BLAS kernels: a service without it decodes other words
    than `dubset run` (the e2e byte-identity), so it passes through; AWS_* does not."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://elsewhere.invalid")
    env = infra.child_env({"DUBSET_BUS": "kafka"})
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["OMP_NUM_THREADS"] == "2"
    assert env["DUBSET_BUS"] == "kafka"
    assert "AWS_ENDPOINT_URL" not in env
