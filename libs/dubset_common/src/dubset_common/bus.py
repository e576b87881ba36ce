"""Message bus interface with an in-process implementation; Kafka lives in kafkabus.py."""

from __future__ import annotations

import threading
import zlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

# A message's headers: (name, value) pairs in order (Kafka allows a name more than once).
Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Record:
    """One message as a consumer sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = ()


class Producer(Protocol):
    def publish(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()
    ) -> None:
        """Send and wait until the broker has it durably; raise TransientError otherwise.
        value None is a tombstone (compacted topics: deletes key); consumers see it as b"".
        A message the broker can never take (too large) raises InvalidInputError."""

    def close(self) -> None: ...


class Consumer(Protocol):
    def poll(self, timeout_s: float, max_records: int = 1) -> list[Record]: ...

    def commit(self, record: Record) -> None:
        """Mark record (and everything before it in its partition) as processed."""

    def keepalive(self) -> None:
        """Stay in the group while busy: no records are taken or lost."""

    def has_session(self) -> bool:
        """Whether the broker holds this consumer's group session now (for health checks)."""

    def close(self) -> None: ...


class Bus(Protocol):
    def producer(self) -> Producer: ...
    def consumer(self, topics: list[str], group: str) -> Consumer: ...
    def ensure_topics(self, topics: list[str], compacted: bool = False) -> None: ...

    def read_topic(self, topic: str) -> list[Record]:
        """Every record of a topic up to its end at call time, in partition then offset order,
        without joining a group or committing (state rebuild); a missing topic is empty."""


def partition_for(key: bytes | None, partitions: int) -> int:
    """Stable partition choice so one episode's events stay in order."""
    return 0 if key is None else zlib.crc32(key) % partitions


class InProcBus:
    """Topics, partitions and committed group offsets in memory, shared by threads."""

    def __init__(self, partitions: int = 4) -> None:
        self.partitions = partitions
        self._logs: dict[str, list[list[Record]]] = {}
        self._committed: dict[tuple[str, str, int], int] = defaultdict(int)
        self._cond = threading.Condition()

    def _log(self, topic: str) -> list[list[Record]]:
        if topic not in self._logs:
            self._logs[topic] = [[] for _ in range(self.partitions)]
        return self._logs[topic]

    def ensure_topics(self, topics: list[str], compacted: bool = False) -> None:
        with self._cond:
            for topic in topics:
                self._log(topic)

    def append(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        with self._cond:
            log = self._log(topic)
            part = partition_for(key, self.partitions)
            log[part].append(Record(topic, part, len(log[part]), key, value or b"", headers))
            self._cond.notify_all()

    def records(self, topic: str) -> list[Record]:
        """Every record of a topic, in partition then offset order (tests, state rebuild)."""
        with self._cond:
            return [r for part in self._log(topic) for r in part]

    def read_topic(self, topic: str) -> list[Record]:
        return self.records(topic)

    def fetch(
        self, group: str, topics: list[str], positions: dict[tuple[str, int], int], max_records: int
    ) -> list[Record]:
        out: list[Record] = []
        for topic in topics:
            for part, log in enumerate(self._log(topic)):
                pos = positions.setdefault((topic, part), self._committed[(group, topic, part)])
                take = log[pos : pos + max_records - len(out)]
                out.extend(take)
                positions[(topic, part)] = pos + len(take)
                if len(out) >= max_records:
                    return out
        return out

    def wait(self, timeout_s: float) -> None:
        with self._cond:
            self._cond.wait(timeout_s)

    def commit(self, group: str, record: Record) -> None:
        with self._cond:
            slot = (group, record.topic, record.partition)
            self._committed[slot] = max(self._committed[slot], record.offset + 1)

    def committed(self, group: str, topic: str, partition: int) -> int:
        with self._cond:
            return self._committed[(group, topic, partition)]

    def producer(self) -> InProcProducer:
        return InProcProducer(self)

    def consumer(self, topics: list[str], group: str) -> InProcConsumer:
        return InProcConsumer(self, topics, group)


class InProcProducer:
    def __init__(self, bus: InProcBus) -> None:
        self._bus = bus

    def publish(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()
    ) -> None:
        self._bus.append(topic, key, value, headers)

    def close(self) -> None:
        return None


class InProcConsumer:
    """One member per group: it owns every partition of its topics."""

    def __init__(self, bus: InProcBus, topics: list[str], group: str) -> None:
        self._bus = bus
        self._topics = list(topics)
        self._group = group
        self._positions: dict[tuple[str, int], int] = {}
        bus.ensure_topics(self._topics)

    def poll(self, timeout_s: float, max_records: int = 1) -> list[Record]:
        with self._bus._cond:
            got = self._bus.fetch(self._group, self._topics, self._positions, max_records)
            if not got and timeout_s > 0:
                self._bus._cond.wait(timeout_s)
                got = self._bus.fetch(self._group, self._topics, self._positions, max_records)
        return got

    def commit(self, record: Record) -> None:
        self._bus.commit(self._group, record)

    def keepalive(self) -> None:
        return None

    def has_session(self) -> bool:
        return True

    def close(self) -> None:
        return None
