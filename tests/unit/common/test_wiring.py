"""Settings pick the store and bus a service gets; secrets are known to the log formatter."""

from __future__ import annotations

from pathlib import Path

from dubset_common import topics
from dubset_common.bus import InProcBus
from dubset_common.config import load_settings
from dubset_common.kafkabus import KafkaBus
from dubset_common.objstore import LocalStore, S3Store
from dubset_common.wiring import build_bus, build_store, secrets_of


def test_embedded_settings_give_local_store_and_inproc_bus(tmp_path: Path) -> None:
    s = load_settings(
        "alignment",
        {
            "DUBSET_BUS": "inproc",
            "DUBSET_STORE": "local",
            "DUBSET_LOCAL_STORE_DIR": str(tmp_path / "st"),
        },
    )
    store = build_store(s)
    assert isinstance(store, LocalStore) and store.root == (tmp_path / "st").resolve()
    assert isinstance(build_bus(s), InProcBus)


def test_distributed_settings_give_s3_store_and_kafka_bus_without_connecting() -> None:
    s = load_settings(
        "alignment",
        {
            "DUBSET_KAFKA_BOOTSTRAP": "127.0.0.1:9",
            "DUBSET_KAFKA_PARTITIONS": "3",
            "DUBSET_S3_ENDPOINT": "http://127.0.0.1:9",
            "DUBSET_S3_BUCKET": "media",
            "DUBSET_S3_PREFIX": "tenant1",
        },
    )
    store = build_store(s)
    assert isinstance(store, S3Store)
    assert store.uri("a/b") == "s3://media/tenant1/a/b"
    bus = build_bus(s)
    assert isinstance(bus, KafkaBus)
    assert bus.options.bootstrap == "127.0.0.1:9" and bus.options.partitions == 3


def test_secrets_of_lists_only_set_secrets() -> None:
    base = {"DUBSET_BUS": "inproc"}
    assert secrets_of(load_settings("x", base)) == ()
    s = load_settings("x", {**base, "DUBSET_S3_SECRET_KEY": "abcd1234"})
    assert set(secrets_of(s)) == {"abcd1234"}


def test_topic_prefix_namespaces_stage_topics() -> None:
    assert topics.requests("asr", "t1.") == "t1.dubset.asr.requests.v1"
    assert topics.results("asr", "t1.") == "t1.dubset.asr.results.v1"
    assert topics.dlq("asr", "t1.") == "t1.dubset.asr.dlq.v1"
