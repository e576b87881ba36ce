"""KafkaBus publish: what the broker's refusals become, without a broker (a fake client)."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import errors as kafka_errors

from dubset_common.errors import InvalidInputError, TransientError
from dubset_common.kafkabus import KafkaOptions, KafkaProducerAdapter


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
    [kafka_errors.OutOfOrderSequenceNumberError(), kafka_errors.UnknownProducerIdError()],
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
