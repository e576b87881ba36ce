"""The jobs service's consumer: stage results, progress and ingest records; an input is
committed only after the state it caused is on the state topic."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Executor

from google.protobuf.message import DecodeError

from dubset.v1 import common_pb2
from dubset_common.bus import Bus, Consumer, Record
from dubset_common.errors import DubsetError, TransientError
from dubset_common.health import LoopHealth
from dubset_jobs.ingest_records import IngestRecords
from dubset_jobs.results import StageResults

log = logging.getLogger(__name__)


class CommitTracker:
    """Per partition, commit up to the first record not yet finished (admission is async)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, int], deque[list[object]]] = {}

    def add(self, record: Record) -> list[object]:
        entry: list[object] = [record, False]
        with self._lock:
            self._pending.setdefault((record.topic, record.partition), deque()).append(entry)
        return entry

    def done(self, entry: list[object]) -> None:
        with self._lock:
            entry[1] = True

    def ready(self) -> list[Record]:
        """The last finished record of each partition's finished prefix."""
        out: list[Record] = []
        with self._lock:
            for queue in self._pending.values():
                last = None
                while queue and queue[0][1]:
                    last = queue.popleft()[0]
                if isinstance(last, Record):
                    out.append(last)
        return out


class ConsumerLoop:
    """One thread polls every input topic; ingest records are admitted on the pool, so they
    never hold up results."""

    def __init__(
        self,
        bus: Bus,
        group: str,
        *,
        ingest_topic: str,
        progress_topic: str,
        results_topics: Iterable[str],
        results: StageResults,
        ingest: IngestRecords,
        pool: Executor,
        stop: threading.Event,
        poll_timeout_s: float,
        health: LoopHealth | None = None,
    ) -> None:
        """health: told of each turn of the loop and whether it holds its session."""
        self.bus, self.group = bus, group
        self.ingest_topic, self.progress_topic = ingest_topic, progress_topic
        self.names = [ingest_topic, progress_topic, *results_topics]
        self.results, self.ingest, self.pool, self.stop = results, ingest, pool, stop
        self.poll_timeout_s, self.health = poll_timeout_s, health
        self.tracker = CommitTracker()

    def run(self) -> None:
        consumer = self.bus.consumer(self.names, self.group)
        if self.health is not None:
            self.health.started()
        try:
            while not self.stop.is_set():
                try:
                    records = consumer.poll(self.poll_timeout_s, max_records=50)
                except TransientError as exc:
                    log.warning("poll failed, retrying: %s", exc)
                    self._alive(consumer)
                    self.stop.wait(1.0)
                    continue
                self._alive(consumer)
                for record in records:
                    self._dispatch(record)
                self._commit(consumer)
        finally:
            self._commit(consumer)
            consumer.close()

    def _alive(self, consumer: Consumer) -> None:
        """The loop went round: a heartbeat, and whether the group session holds."""
        if self.health is not None:
            self.health.heartbeat()
            self.health.session(consumer.has_session())

    def _commit(self, consumer: Consumer) -> None:
        for record in self.tracker.ready():
            try:
                consumer.commit(record)
            except TransientError as exc:
                log.warning("commit failed; the record comes back and is a no-op: %s", exc)

    def _dispatch(self, record: Record) -> None:
        entry = self.tracker.add(record)
        if record.topic == self.ingest_topic:
            self.pool.submit(self._admit, record, entry)
            return
        try:
            if record.topic == self.progress_topic:
                self.results.on_progress(common_pb2.StageProgressEvent.FromString(record.value))
            else:
                self.results.on_result(common_pb2.StageResult.FromString(record.value))
        except DecodeError:
            log.warning("skipping an unreadable record on %s@%d", record.topic, record.offset)
        except TransientError:
            if self.stop.is_set():
                return  # left uncommitted: redelivered after the restart
            raise
        except DubsetError as exc:
            log.warning("record on %s@%d: %s", record.topic, record.offset, exc)
        except Exception:
            log.exception("record on %s@%d failed", record.topic, record.offset)
        self.tracker.done(entry)

    def _admit(self, record: Record, entry: list[object]) -> None:
        self.ingest.admit(record)
        if not self.stop.is_set():  # once stopping, left uncommitted: admitted again later
            self.tracker.done(entry)
