"""The bus over the Kafka protocol (kafka-python 3.x): Apache Kafka, Redpanda, Tansu."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dubset_common.bus import Headers, Record
from dubset_common.errors import InvalidInputError, TransientError

if TYPE_CHECKING:
    from dubset_common.kafkaconsumer import KafkaConsumerAdapter

log = logging.getLogger(__name__)


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    """How clients authenticate to the brokers: TLS (SSL), SASL, or both (SASL_SSL)."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    ssl_cafile: str = ""  # the brokers' CA; empty: the system's trust store
    ssl_certfile: str = ""  # a client certificate (mTLS)
    ssl_keyfile: str = ""

    def client_kwargs(self) -> dict[str, str]:
        """The kafka-python arguments every producer, consumer and admin client gets."""
        out = {"security_protocol": self.protocol}
        if self.protocol.startswith("SASL_"):
            out |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.protocol.endswith("SSL"):
            files = {
                "ssl_cafile": self.ssl_cafile,
                "ssl_certfile": self.ssl_certfile,
                "ssl_keyfile": self.ssl_keyfile,
            }
            out |= {k: v for k, v in files.items() if v}
        return out


@dataclass(frozen=True)
class KafkaOptions:
    bootstrap: str
    client_id: str = "dubset"
    partitions: int = 6
    replication_factor: int = 1
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    fetch_max_wait_ms: int = 500
    bootstrap_timeout_ms: int = 30_000
    max_message_bytes: int = 1_048_576
    publish_timeout_s: float = 30.0
    security: KafkaSecurity = field(default_factory=KafkaSecurity)


class KafkaBus:
    """Creates producers and consumers against one cluster."""

    def __init__(self, options: KafkaOptions) -> None:
        self.options = options

    def producer(self) -> KafkaProducerAdapter:
        return KafkaProducerAdapter(self.options)

    def consumer(self, topics: list[str], group: str) -> KafkaConsumerAdapter:
        from dubset_common.kafkaconsumer import KafkaConsumerAdapter  # it imports this module

        return KafkaConsumerAdapter(self.options, topics, group)

    def ensure_topics(self, topics: list[str], compacted: bool = False) -> None:
        """Create missing topics with the configured partition count (existing ones are kept)."""
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import KafkaError, TopicAlreadyExistsError

        opts = self.options
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=opts.bootstrap,
                client_id=opts.client_id,
                **opts.security.client_kwargs(),
                bootstrap_timeout_ms=opts.bootstrap_timeout_ms,
            )
        except KafkaError as exc:
            raise TransientError(f"Kafka unreachable at {opts.bootstrap}: {exc}") from exc
        try:
            existing = set(admin.list_topics())
            configs = {"cleanup.policy": "compact"} if compacted else {}
            new = [
                NewTopic(t, opts.partitions, opts.replication_factor, topic_configs=configs)
                for t in topics
                if t not in existing
            ]
            if new:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(new)
        except KafkaError as exc:
            raise TransientError(f"cannot create topics {topics}: {exc}") from exc
        finally:
            admin.close()

    def read_topic(self, topic: str) -> list[Record]:
        """A group-less consumer on every partition, from the beginning to the end offsets
        taken now; records published meanwhile are left for the caller's group consumer."""
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import KafkaError

        opts = self.options
        try:
            consumer: Any = KafkaConsumer(
                bootstrap_servers=opts.bootstrap,
                client_id=opts.client_id,
                **opts.security.client_kwargs(),
                group_id=None,
                enable_auto_commit=False,
                fetch_max_wait_ms=opts.fetch_max_wait_ms,
                fetch_max_bytes=max(opts.max_message_bytes * 4, 4 * 1_048_576),
            )
        except KafkaError as exc:
            raise TransientError(f"Kafka unreachable at {opts.bootstrap}: {exc}") from exc
        try:
            return _read_to_end(consumer, topic, TopicPartition, opts.bootstrap_timeout_ms)
        except KafkaError as exc:
            raise TransientError(f"cannot read {topic}: {exc}") from exc
        finally:
            consumer.close(autocommit=False)


def _read_to_end(consumer: Any, topic: str, tp_type: Any, timeout_ms: int) -> list[Record]:
    parts = consumer.partitions_for_topic(topic)
    if not parts:
        return []
    tps = [tp_type(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = {tp: int(off) for tp, off in consumer.end_offsets(tps).items()}
    out: list[Record] = []
    deadline = time.monotonic() + timeout_ms / 1000
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        if time.monotonic() > deadline:
            raise TransientError(f"reading {topic} to its end stalled for {timeout_ms} ms")
        batches = consumer.poll(timeout_ms=500, max_records=500)
        if batches:
            deadline = time.monotonic() + timeout_ms / 1000  # a stall, not a long topic, fails
        for tp, records in batches.items():
            end = ends.get(tp, 0)
            out.extend(
                Record(
                    r.topic, r.partition, r.offset, r.key, r.value or b"", tuple(r.headers or ())
                )
                for r in records
                if r.offset < end
            )
    return sorted(out, key=lambda r: (r.partition, r.offset))


# The producer's own sequence/epoch no longer matches the broker's (typically after a broker
# restart lost its producer state): the producer must be replaced, then the send retried.
_PRODUCER_STATE_ERRORS = (
    "OutOfOrderSequenceNumberError",
    "UnknownProducerIdError",
    "InvalidProducerEpochError",
    "InvalidProducerIdMappingError",
    "ProducerFencedError",
    # The broker's "unexpected server error" (-1), and the codes kafka-python does not know:
    # after a broker restart the sender aborts every batch with it for good (a fatal error),
    # so the producer is replaced, never the record refused.
    "UnknownError",
    "UnrecognizedBrokerError",
)


class KafkaProducerAdapter:
    def __init__(self, options: KafkaOptions) -> None:
        self._options = options
        self._timeout = options.publish_timeout_s
        self._max_bytes = options.max_message_bytes
        self._producer = self._connect()

    def _connect(self) -> Any:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        options = self._options
        try:
            return KafkaProducer(
                bootstrap_servers=options.bootstrap,
                client_id=options.client_id,
                **options.security.client_kwargs(),
                acks="all",
                retries=5,
                max_in_flight_requests_per_connection=1,
                linger_ms=2,
                max_request_size=options.max_message_bytes,
            )
        except KafkaError as exc:
            raise TransientError(f"Kafka unreachable at {options.bootstrap}: {exc}") from exc

    def publish(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()
    ) -> None:
        """value None: a real Kafka tombstone (a null value, which compaction deletes)."""
        from kafka.errors import (
            AuthorizationError,
            BrokerResponseError,
            KafkaError,
            MessageSizeTooLargeError,
        )

        try:
            future = self._producer.send(topic, key=key, value=value, headers=list(headers))
            future.get(timeout=self._timeout)
        except MessageSizeTooLargeError as exc:
            size = len(value or b"") + len(key or b"")
            raise InvalidInputError(
                f"a {size}-byte message is too large for {topic} "
                f"(limit {self._max_bytes} bytes): {exc}"
            ) from exc
        except AuthorizationError as exc:  # an operator can grant it: waited out
            raise TransientError(f"publish to {topic} not authorized: {exc}") from exc
        except BrokerResponseError as exc:
            if type(exc).__name__ in _PRODUCER_STATE_ERRORS:
                self._replace_producer()
                raise TransientError(f"publish to {topic} failed, producer renewed: {exc}") from exc
            if not exc.retriable:  # the broker refuses this record (invalid topic, corrupt...)
                raise InvalidInputError(f"publish to {topic} refused: {exc}") from exc
            raise TransientError(f"publish to {topic} failed: {exc}") from exc
        except KafkaError as exc:
            raise TransientError(f"publish to {topic} failed: {exc}") from exc

    def _replace_producer(self) -> None:
        old = self._producer
        self._producer = self._connect()
        with contextlib.suppress(Exception):
            old.close(timeout=0)

    def close(self) -> None:
        self._producer.close(timeout=5)
