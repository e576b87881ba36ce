"""S3Store and KafkaBus against the real SeaweedFS and Tansu servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dubset_common.errors import InvalidInputError, NotFoundError, TransientError
from dubset_common.kafkabus import KafkaBus, KafkaOptions
from dubset_common.objstore import S3Store, make_s3_client


def test_s3_round_trip_large_file_and_listing(s3_store: S3Store, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))  # over boto3's multipart threshold
    info = s3_store.put_file("media/ep1/big.bin", big, "application/octet-stream")
    assert info.size_bytes == big.stat().st_size
    back = tmp_path / "back.bin"
    s3_store.get_file("media/ep1/big.bin", back)
    assert back.read_bytes() == big.read_bytes()
    s3_store.put_bytes("media/ep1/a.json", b"{}", "application/json")
    assert s3_store.list("media/ep1") == ["media/ep1/a.json", "media/ep1/big.bin"]
    assert s3_store.list("media/ep") == []  # prefixes are whole path segments
    assert s3_store.key_of(info.uri) == "media/ep1/big.bin"
    with pytest.raises(InvalidInputError, match="over the limit"):
        s3_store.get_bytes("media/ep1/big.bin", max_bytes=1024)


def test_s3_missing_object_and_foreign_uri(s3_store: S3Store) -> None:
    with pytest.raises(NotFoundError):
        s3_store.get_bytes("nope/missing.json")
    assert not s3_store.exists("nope/missing.json")
    with pytest.raises(InvalidInputError):
        s3_store.key_of("s3://other-bucket/stages/x")
    with pytest.raises(InvalidInputError):
        s3_store.put_bytes("../escape", b"x")


def test_s3_wrong_secret_is_refused(infra_env: dict[str, str], namespace: str) -> None:
    client = make_s3_client(
        infra_env["DUBSET_S3_ENDPOINT"], "us-east-1", infra_env["DUBSET_S3_ACCESS_KEY"], "wrong"
    )
    store = S3Store(client, infra_env["DUBSET_S3_BUCKET"], namespace)
    with pytest.raises(Exception, match=r"SignatureDoesNotMatch|AccessDenied|403"):
        store.put_bytes("x.json", b"{}")


def test_s3_unreachable_is_transient(namespace: str) -> None:
    client = make_s3_client("http://127.0.0.1:9", "us-east-1", "a", "b")
    with pytest.raises(TransientError):
        S3Store(client, "dubset", namespace).get_bytes("x.json")


def test_kafka_group_resumes_from_commit_and_keepalive_loses_nothing(
    infra_env: dict[str, str], namespace: str
) -> None:
    bus = KafkaBus(
        KafkaOptions(
            bootstrap=infra_env["DUBSET_KAFKA_BOOTSTRAP"],
            partitions=1,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
        )
    )
    topic = f"{namespace}.events"
    bus.ensure_topics([topic])
    bus.ensure_topics([topic])  # idempotent
    producer = bus.producer()
    for i in range(5):
        producer.publish(topic, b"ep", f"m{i}".encode())
    producer.close()

    consumer = bus.consumer([topic], f"{namespace}-group")
    got = []
    for _ in range(60):
        got += consumer.poll(1.0, max_records=1)
        if got:
            break
    assert [r.value for r in got] == [b"m0"]
    consumer.keepalive()  # fetched-while-busy records are rewound, not skipped
    consumer.commit(got[0])
    rest = []
    for _ in range(30):
        rest += consumer.poll(0.5, max_records=10)
        if len(rest) >= 4:
            break
    assert [r.value for r in rest] == [b"m1", b"m2", b"m3", b"m4"]
    consumer.commit(rest[1])  # m2 done; m3, m4 not
    consumer.close()

    again = bus.consumer([topic], f"{namespace}-group")
    redelivered = []
    for _ in range(60):
        redelivered += again.poll(1.0, max_records=10)
        if len(redelivered) >= 2:
            break
    again.close()
    assert [r.value for r in redelivered] == [b"m3", b"m4"]


def test_kafka_unreachable_is_transient() -> None:
    with pytest.raises(TransientError):
        options = KafkaOptions(bootstrap="127.0.0.1:9", bootstrap_timeout_ms=2000)
        KafkaBus(options).ensure_topics(["x"])


def test_modelsync_cli_publishes_and_syncs_through_s3(
    infra_env: dict[str, str], namespace: str, tmp_path: Path
) -> None:
    """The init container's command against the real S3 server: publish, sync, re-sync."""
    import subprocess
    import sys

    src = tmp_path / "whisper-tiny"
    (src / "tok").mkdir(parents=True)
    (src / "model.bin").write_bytes(os.urandom(3 << 20))
    (src / "tok/vocab.json").write_text('{"a": 0}')
    env = {**os.environ, **infra_env}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dubset_common.modelsync", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    prefix = f"{namespace}/models/asr/whisper-tiny"
    assert "wrote" in cli("publish", "--src", str(src), "--prefix", prefix)
    out = cli("sync", "--prefix", prefix, "--dest", str(tmp_path / "models/whisper-tiny"))
    assert out.count("fetched") == 2
    for name in ("model.bin", "tok/vocab.json"):
        assert (tmp_path / "models/whisper-tiny" / name).read_bytes() == (src / name).read_bytes()
    again = cli("sync", "--prefix", prefix, "--dest", str(tmp_path / "models/whisper-tiny"))
    assert again.count("in place") == 2
    missing = subprocess.run(
        [sys.executable, "-m", "dubset_common.modelsync", "sync", "--prefix", f"{namespace}/none",
         "--dest", str(tmp_path / "x")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert missing.returncode == 1
    assert "not found" in missing.stderr


def test_topics_cli_creates_every_topic_and_grows_partitions(
    infra_env: dict[str, str], namespace: str
) -> None:
    """The chart's topics Job against the real broker: create, re-run (no change), grow."""
    import subprocess
    import sys

    from kafka import KafkaConsumer

    from dubset_jobs.topics import all_topics

    env = {**os.environ, **infra_env, "DUBSET_TOPIC_PREFIX": f"{namespace}."}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dubset_jobs.topics", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    wanted = [t.name for t in all_topics(f"{namespace}.")]
    first = cli("--partitions", "2")
    assert first.count("create  ") == len(wanted)
    consumer = KafkaConsumer(bootstrap_servers=infra_env["DUBSET_KAFKA_BOOTSTRAP"])
    try:
        for name in wanted:
            assert consumer.partitions_for_topic(name) == {0, 1}, name
    finally:
        consumer.close()
    again = cli("--partitions", "2")
    assert again.count("keep    ") == len(wanted) and "create  " not in again
    plan = cli("--partitions", "3", "--dry-run")
    assert plan.count("grow    ") == len(wanted)
    # Tansu (the local broker) has no CreatePartitions; Kafka does. Here the Job must fail
    # loudly, not pretend, and leave the topics as they were.
    grow = subprocess.run(
        [sys.executable, "-m", "dubset_jobs.topics", "--partitions", "3"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if grow.returncode != 0:
        assert "Kafka refused the topic changes" in grow.stderr
        assert "CreatePartitions" in grow.stderr
    consumer = KafkaConsumer(bootstrap_servers=infra_env["DUBSET_KAFKA_BOOTSTRAP"])
    try:
        want = {0, 1} if grow.returncode else {0, 1, 2}
        for name in wanted:
            assert consumer.partitions_for_topic(name) == want, name
    finally:
        consumer.close()


def test_s3_copy_is_done_by_the_server_and_keeps_the_checksum(s3_store: S3Store) -> None:
    info = s3_store.put_bytes("copy/src.bin", b"payload", "audio/mpeg")
    s3_store.copy("copy/src.bin", "copy/dst.bin")
    assert s3_store.get_bytes("copy/dst.bin") == b"payload"
    head = s3_store._s3.head_object(Bucket=s3_store.bucket, Key=f"{s3_store.prefix}/copy/dst.bin")
    assert head["Metadata"]["sha256"] == info.sha256 and head["ContentType"] == "audio/mpeg"
    with pytest.raises(NotFoundError):
        s3_store.copy("copy/nope.bin", "copy/other.bin")
