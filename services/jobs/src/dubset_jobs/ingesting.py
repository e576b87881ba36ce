"""The orchestrator's consumer: stage results, progress and ingest records; an input is
committed only after the state it caused is on the state topic."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from dubset.v1 import common_pb2, jobs_pb2
from dubset_common import topics
from dubset_common.bus import Consumer, Record
from dubset_common.errors import DubsetError, TransientError
from dubset_jobs.ingestor import parse_record, store_key, submission_from_manifest

if TYPE_CHECKING:
    from dubset_jobs.orchestrator import Orchestrator

log = logging.getLogger(__name__)
MAX_LETTER_BYTES = 512 * 1024


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


class Ingest:
    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.tracker = CommitTracker()
        self.progress_topic = topics.progress(orch.prefix)

    def consume(self) -> None:
        orch = self.orch
        names = [orch.ingest_topic, self.progress_topic, *orch.results_topics]
        consumer = orch.bus.consumer(names, orch.group)
        if orch.health is not None:
            orch.health.started()
        try:
            while not orch.stopping.is_set():
                try:
                    records = consumer.poll(orch.options.poll_timeout_s, max_records=50)
                except TransientError as exc:
                    log.warning("poll failed, retrying: %s", exc)
                    self._alive(consumer)
                    orch.stopping.wait(1.0)
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
        health = self.orch.health
        if health is not None:
            health.heartbeat()
            health.session(consumer.has_session())

    def _commit(self, consumer: Consumer) -> None:
        for record in self.tracker.ready():
            try:
                consumer.commit(record)
            except TransientError as exc:
                log.warning("commit failed; the record comes back and is a no-op: %s", exc)

    def _dispatch(self, record: Record) -> None:
        entry = self.tracker.add(record)
        if record.topic == self.orch.ingest_topic:
            assert self.orch._pool is not None
            self.orch._pool.submit(self._admit, record, entry)
            return
        try:
            if record.topic == self.progress_topic:
                self.orch.on_progress(common_pb2.StageProgressEvent.FromString(record.value))
            else:
                self.orch.on_result(common_pb2.StageResult.FromString(record.value))
        except DecodeError:
            log.warning("skipping an unreadable record on %s@%d", record.topic, record.offset)
        except TransientError:
            if self.orch.stopping.is_set():
                return  # left uncommitted: redelivered after the restart
            raise
        except DubsetError as exc:
            log.warning("record on %s@%d: %s", record.topic, record.offset, exc)
        except Exception:
            log.exception("record on %s@%d failed", record.topic, record.offset)
        self.tracker.done(entry)

    def _admit(self, record: Record, entry: list[object]) -> None:
        """Ingest records never block results: they are admitted on a pool thread."""
        orch = self.orch
        try:
            source, what = parse_record(record.value)
            if isinstance(what, jobs_pb2.EpisodeSubmission):
                self._submit(record, lambda: what, source, "")
            else:
                for event in what:
                    name = f"s3://{event.bucket}/{event.key}"

                    def make(e=event):  # type: ignore[no-untyped-def]
                        return submission_from_manifest(orch.store, store_key(orch.store, e))

                    self._submit(record, make, source, name)
        except TransientError as exc:
            if orch.stopping.is_set():
                log.info(
                    "ingest record %s@%d left for redelivery: %s", record.topic, record.offset, exc
                )
                return  # not done, so not committed: admitted again after the restart
            self._reject(record, exc, "")
        except DubsetError as exc:
            self._reject(record, exc, "")
        except Exception as exc:
            log.exception("ingest record %s@%d failed", record.topic, record.offset)
            self._reject(record, exc, "")
        if not orch.stopping.is_set():
            self.tracker.done(entry)

    def _submit(self, record: Record, make: object, source: str, name: str) -> None:
        orch = self.orch
        while True:
            try:
                sub = make()  # type: ignore[operator]
                status, existing = orch.submit(sub, source)
                log.info(
                    "ingested %s as job %s (existing: %s)",
                    name or "a submission",
                    status.job_id,
                    existing,
                )
                return
            except TransientError as exc:
                if orch.stopping.wait(2.0):
                    raise
                log.warning("ingest of %s waits for the store: %s", name, exc)
            except DubsetError as exc:
                self._reject(record, exc, name)
                return

    def _reject(self, record: Record, exc: Exception, name: str) -> None:
        code = exc.code if isinstance(exc, DubsetError) else "INTERNAL"
        message = f"{name}: {exc}" if name else str(exc)
        reason = "other_bucket" if "bucket" in message and "reads bucket" in message else code
        self.orch.metrics.ingest_rejected.labels(reason.lower()).inc()
        log.warning("ingest record %s@%d refused: %s", record.topic, record.offset, message)
        letter = common_pb2.DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=(record.key or b"")[:1024],
            value=record.value[:MAX_LETTER_BYTES],
            error_code=code,
            error_message=message[:4096],
            attempts=1,
        )
        assert self.orch._producer is not None
        producer = self.orch._producer
        self.orch._retrying(
            lambda: producer.publish(self.orch.dlq_topic, record.key, letter.SerializeToString())
        )
