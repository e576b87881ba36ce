"""Build the object store, bus and loop health a service's settings ask for."""

from __future__ import annotations

from pathlib import Path

from dubset_common.bus import Bus, InProcBus
from dubset_common.config import Settings
from dubset_common.health import LoopHealth
from dubset_common.kafkabus import KafkaBus, KafkaOptions, KafkaSecurity
from dubset_common.objstore import LocalStore, ObjectStore, S3Store, make_s3_client


def build_store(settings: Settings) -> ObjectStore:
    if settings.store == "local":
        return LocalStore(Path(settings.local_store_dir))
    client = make_s3_client(
        settings.s3_endpoint, settings.s3_region, settings.s3_access_key, settings.s3_secret_key
    )
    return S3Store(client, settings.s3_bucket, settings.s3_prefix)


def build_bus(settings: Settings) -> Bus:
    if settings.bus == "inproc":
        return InProcBus()
    return KafkaBus(
        KafkaOptions(
            bootstrap=settings.kafka_bootstrap,
            client_id=settings.kafka_client_id,
            partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            security=kafka_security(settings),
        )
    )


def build_health(settings: Settings) -> LoopHealth:
    """The health state of a consumer loop, its startup clock started now."""
    return LoopHealth(settings.health_stall_s, settings.health_startup_s)


def kafka_security(settings: Settings) -> KafkaSecurity:
    return KafkaSecurity(
        protocol=settings.kafka_security_protocol,
        sasl_mechanism=settings.kafka_sasl_mechanism,
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password,
        ssl_cafile=settings.kafka_ssl_cafile,
        ssl_certfile=settings.kafka_ssl_certfile,
        ssl_keyfile=settings.kafka_ssl_keyfile,
    )


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Values that must never reach a log line."""
    return tuple(s for s in (settings.s3_secret_key, settings.kafka_sasl_password) if s)
