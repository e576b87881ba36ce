"""KafkaBus publish: what the broker's refusals become, without a broker (a fake client)."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import errors as kafka_errors
from kafka.structs import ConsumerGroupMetadata, MemberState, TopicPartition

from dubset_common.errors import InvalidInputError, TransientError
from dubset_common.kafkabus import KafkaOptions, KafkaProducerAdapter
from dubset_common.kafkaconsumer import (
    COVERAGE_CHECK_S,
    REJOIN_BACKOFF_S,
    SESSION_LOST_RENEW_S,
    KafkaConsumerAdapter,
)


class _Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class _Client:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[dict[str, Any]] = []

    def send(self, topic: str, **kwargs: Any) -> _Future:
        self.sent.append({"topic": topic, **kwargs})
        return _Future(self.error)


def _adapter(client: _Client) -> KafkaProducerAdapter:
    adapter = KafkaProducerAdapter.__new__(KafkaProducerAdapter)
    adapter._producer = client
    adapter._timeout = 1.0
    adapter._max_bytes = KafkaOptions("127.0.0.1:1").max_message_bytes
    return adapter


def test_a_none_value_is_sent_as_a_real_tombstone() -> None:
    client = _Client()
    _adapter(client).publish("dubset.jobs.state.v1", b"job-1", None)
    assert client.sent[0]["key"] == b"job-1" and client.sent[0]["value"] is None


@pytest.mark.parametrize(
    "error",
    [kafka_errors.MessageSizeTooLargeError("too big"), kafka_errors.InvalidTopicError()],
)
def test_a_message_the_broker_never_takes_is_invalid_input(error: Exception) -> None:
    with pytest.raises(InvalidInputError, match=r"dubset\.x\.v1"):
        _adapter(_Client(error)).publish("dubset.x.v1", b"k", b"v" * 10)


@pytest.mark.parametrize(
    "error",
    [
        kafka_errors.KafkaTimeoutError(),
        kafka_errors.NotLeaderForPartitionError(),
        kafka_errors.TopicAuthorizationFailedError(),
        kafka_errors.KafkaError("connection reset"),
    ],
)
def test_a_failure_that_may_pass_stays_transient(error: Exception) -> None:
    with pytest.raises(TransientError):
        _adapter(_Client(error)).publish("dubset.x.v1", b"k", b"v")


class _ClosingClient(_Client):
    closed = False

    def close(self, timeout: float) -> None:
        self.closed = True


@pytest.mark.parametrize(
    "error",
    [
        kafka_errors.OutOfOrderSequenceNumberError(),
        kafka_errors.UnknownProducerIdError(),
        kafka_errors.UnknownError(),  # the sender's fatal error after a broker restart
        kafka_errors.for_code(-99)(),  # a code kafka-python does not know
    ],
)
def test_a_producer_the_broker_lost_track_of_is_replaced_and_the_send_retried(
    error: Exception,
) -> None:
    # After a broker restart the idempotent producer's sequence numbers no longer match: the
    # record is not bad, the producer is. It is replaced, and the caller's retry gets through.
    broken, fresh = _ClosingClient(error), _Client()
    adapter = _adapter(broken)
    adapter._connect = lambda: fresh  # type: ignore[method-assign]
    with pytest.raises(TransientError, match="producer renewed"):
        adapter.publish("dubset.x.v1", b"k", b"v")
    assert broken.closed
    adapter.publish("dubset.x.v1", b"k", b"v")
    assert fresh.sent[0]["value"] == b"v"


def test_security_settings_reach_every_client_as_kafka_python_arguments() -> None:
    from dubset_common.config import load_settings
    from dubset_common.wiring import kafka_security, secrets_of

    env = {
        "DUBSET_BUS": "kafka",
        "DUBSET_KAFKA_BOOTSTRAP": "broker:9096",
        "DUBSET_STORE": "local",
        "DUBSET_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "DUBSET_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "DUBSET_KAFKA_SASL_USERNAME": "dubset",
        "DUBSET_KAFKA_SASL_PASSWORD": "hunter2-but-longer",
        "DUBSET_KAFKA_SSL_CAFILE": "/etc/kafka/ca.pem",
    }
    settings = load_settings("asr", env)
    assert kafka_security(settings).client_kwargs() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "dubset",
        "sasl_plain_password": "hunter2-but-longer",
        "ssl_cafile": "/etc/kafka/ca.pem",
    }
    assert settings.redacted()["kafka_sasl_password"] == "***"
    assert "hunter2-but-longer" not in repr(settings) and "hunter2" not in repr(
        kafka_security(settings)
    )
    assert "hunter2-but-longer" in secrets_of(settings)  # masked in every log line
    plain = load_settings("asr", {k: v for k, v in env.items() if "KAFKA_S" not in k})
    assert kafka_security(plain).client_kwargs() == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"DUBSET_KAFKA_SECURITY_PROTOCOL": "TLS"}, "must be one of PLAINTEXT"),
        ({"DUBSET_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL_MECHANISM must be one of"),
        (
            {"DUBSET_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "DUBSET_KAFKA_SASL_MECHANISM": "PLAIN"},
            "USERNAME and DUBSET_KAFKA_SASL_PASSWORD are required",
        ),
        ({"DUBSET_KAFKA_SSL_CERTFILE": "/c.pem"}, "go together"),
    ],
)
def test_incomplete_kafka_security_settings_stop_the_service(
    extra: dict[str, str], needle: str
) -> None:
    from dubset_common.config import load_settings
    from dubset_common.errors import ConfigError

    env = {"DUBSET_BUS": "kafka", "DUBSET_KAFKA_BOOTSTRAP": "b:9092", "DUBSET_STORE": "local"}
    with pytest.raises(ConfigError, match=needle):
        load_settings("asr", env | extra)


def test_a_client_of_a_secured_cluster_is_built_with_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kafka

    from dubset_common.kafkabus import KafkaSecurity

    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.update(kwargs)

    monkeypatch.setattr(kafka, "KafkaProducer", Recorder)
    security = KafkaSecurity("SASL_PLAINTEXT", "PLAIN", "u", "p")
    KafkaProducerAdapter(KafkaOptions("b:9092", security=security))
    assert seen["security_protocol"] == "SASL_PLAINTEXT" and seen["sasl_plain_password"] == "p"


class _Coordinator:
    def __init__(self, known: bool) -> None:
        self.known = known

    def coordinator_unknown(self) -> bool:
        return not self.known


class _GroupClient:
    """The parts of a KafkaConsumer that tell its group membership."""

    def __init__(self, state: str, coordinator_known: bool = True, broken: bool = False) -> None:
        self.state = state
        self.broken = broken
        self._coordinator = _Coordinator(coordinator_known)

    def group_metadata(self) -> ConsumerGroupMetadata:
        if self.broken:
            raise AttributeError("no such thing in this kafka-python")
        return ConsumerGroupMetadata(group_id="dubset-asr", state=self.state)


@pytest.mark.parametrize(
    ("client", "held"),
    [
        (_GroupClient(MemberState.STABLE), True),
        (_GroupClient(MemberState.REBALANCING), False),
        (_GroupClient(MemberState.UNJOINED), False),
        (_GroupClient(MemberState.STABLE, coordinator_known=False), False),  # broker gone
        (_GroupClient(MemberState.STABLE, broken=True), False),
    ],
    ids=["joined", "rebalancing", "unjoined", "coordinator lost", "client error"],
)
def test_a_consumer_has_a_session_only_while_joined_to_a_reachable_coordinator(
    client: _GroupClient, held: bool
) -> None:
    adapter = KafkaConsumerAdapter.__new__(KafkaConsumerAdapter)
    adapter._consumer = client
    assert adapter.has_session() is held


class _Subscribed(_GroupClient):
    """A joined consumer of topics a and b whose last rebalance gave it nothing of b, though
    the broker has b's partitions (the leader's metadata for b failed at that rebalance)."""

    def __init__(self) -> None:
        super().__init__(MemberState.STABLE)
        self.topics = {"a", "b"}
        self.held = {TopicPartition("a", 0)}
        self.calls: list[str] = []

    def subscription(self) -> set[str]:
        return set(self.topics)

    def assignment(self) -> set[TopicPartition]:
        return set(self.held)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1}

    def poll(self, timeout_ms: int, max_records: int) -> dict[object, list[object]]:
        return {}

    def unsubscribe(self) -> None:
        self.calls.append("unsubscribe")

    def subscribe(self, topics: list[str]) -> None:
        self.calls.append(f"subscribe {','.join(topics)}")

    def close(self, autocommit: bool) -> None:
        assert not autocommit
        self.calls.append("close")


def _fresh(adapter: KafkaConsumerAdapter, client: object) -> None:
    adapter._consumer, adapter._paused = client, False
    adapter._next_check, adapter._next_rejoin, adapter._uncovered = 0.0, 0.0, []
    adapter._no_session_since = None


def test_a_consumer_left_without_a_subscribed_topic_rejoins_once_then_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("dubset_common.kafkaconsumer.time.monotonic", lambda: clock[0])
    client = _Subscribed()
    adapter = KafkaConsumerAdapter.__new__(KafkaConsumerAdapter)
    _fresh(adapter, client)

    def turn(seconds: float) -> None:
        clock[0] += seconds
        adapter.poll(0.1)

    turn(0)  # first sight: not yet (a rebalance may be settling)
    assert client.calls == []
    turn(5)  # checks are COVERAGE_CHECK_S apart
    assert client.calls == []
    turn(COVERAGE_CHECK_S)  # still uncovered: rejoin
    assert client.calls == ["unsubscribe", "subscribe a,b"]
    turn(COVERAGE_CHECK_S)
    turn(COVERAGE_CHECK_S)  # uncovered again (more members than partitions?): waits
    assert len(client.calls) == 2
    clock[0] += REJOIN_BACKOFF_S
    turn(0)
    assert len(client.calls) == 4
    client.held.add(TopicPartition("b", 1))  # the rebalance gave it b
    turn(COVERAGE_CHECK_S)
    turn(COVERAGE_CHECK_S + REJOIN_BACKOFF_S)
    assert len(client.calls) == 4


def test_a_consumer_polling_without_a_session_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("dubset_common.kafkaconsumer.time.monotonic", lambda: clock[0])
    lost = _Subscribed()
    lost.state = MemberState.UNJOINED  # the broker restarted under its join: never again
    fresh = _Subscribed()
    fresh.held |= {TopicPartition("b", 0)}
    adapter = KafkaConsumerAdapter.__new__(KafkaConsumerAdapter)
    _fresh(adapter, lost)
    adapter._connect = lambda: fresh  # type: ignore[method-assign]
    adapter.poll(0.1)  # first sight of no session
    clock[0] += SESSION_LOST_RENEW_S - 1
    adapter.poll(0.1)
    assert adapter._consumer is lost
    clock[0] += COVERAGE_CHECK_S
    adapter.poll(0.1)
    assert adapter._consumer is fresh and lost.calls == ["close"]
    for _ in range(3):  # the new one joined: left alone
        clock[0] += SESSION_LOST_RENEW_S
        adapter.poll(0.1)
    assert adapter._consumer is fresh and fresh.calls == []
