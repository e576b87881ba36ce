"""An in-process bus whose producer and consumer record what they do or inject failures."""

from __future__ import annotations

import threading
from collections.abc import Callable

from dubset_common.bus import Consumer, Headers, InProcBus, Producer, Record
from dubset_common.errors import InvalidInputError, TransientError

# (topic, value) -> True when the broker can never take that message (too large).
Refuse = Callable[[str, bytes | None], bool]


class EventLog:
    """A shared, ordered log of what the wrappers saw."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, kind: str, detail: str) -> None:
        with self.lock:
            self.events.append((kind, detail))

    def kinds(self) -> list[str]:
        with self.lock:
            return [k for k, _ in self.events]


class FlakyProducer:
    """Fails the first `fail_first` publishes (or all of them) with TransientError, and the
    messages `refuse` picks with InvalidInputError (as KafkaBus does for a too large one)."""

    def __init__(
        self,
        inner: Producer,
        events: EventLog,
        fail_first: int = 0,
        always: bool = False,
        refuse: Refuse | None = None,
    ) -> None:
        self.inner = inner
        self.events = events
        self.fail_left = fail_first
        self.always = always
        self.refuse = refuse

    def publish(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()
    ) -> None:
        if self.refuse is not None and self.refuse(topic, value):
            self.events.add("publish-refused", topic)
            raise InvalidInputError(f"message too large for {topic}")
        if self.always or self.fail_left > 0:
            self.fail_left -= 1
            self.events.add("publish-failed", topic)
            raise TransientError("broker not available")
        self.inner.publish(topic, key, value, headers)
        self.events.add("published", topic)

    def close(self) -> None:
        self.inner.close()


class RecordingConsumer:
    """Logs each commit, then passes it on."""

    def __init__(self, inner: Consumer, events: EventLog) -> None:
        self.inner = inner
        self.events = events

    def poll(self, timeout_s: float, max_records: int = 1) -> list[Record]:
        return self.inner.poll(timeout_s, max_records)

    def commit(self, record: Record) -> None:
        self.events.add("commit", f"{record.topic}@{record.offset}")
        self.inner.commit(record)

    def keepalive(self) -> None:
        self.inner.keepalive()

    def has_session(self) -> bool:
        return self.inner.has_session()

    def close(self) -> None:
        self.inner.close()


class WrappedBus:
    """An InProcBus whose producer and consumer are wrapped to record or inject failures."""

    def __init__(
        self,
        inner: InProcBus,
        events: EventLog,
        *,
        fail_first: int = 0,
        always_fail: bool = False,
        refuse: Refuse | None = None,
    ) -> None:
        self.inner = inner
        self.events = events
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.refuse = refuse

    def producer(self) -> FlakyProducer:
        return FlakyProducer(
            self.inner.producer(), self.events, self.fail_first, self.always_fail, self.refuse
        )

    def consumer(self, topics: list[str], group: str) -> RecordingConsumer:
        return RecordingConsumer(self.inner.consumer(topics, group), self.events)

    def ensure_topics(self, topics: list[str], compacted: bool = False) -> None:
        self.inner.ensure_topics(topics, compacted)

    def read_topic(self, topic: str) -> list[Record]:
        return self.inner.read_topic(topic)
