"""Job state on the compacted dubset.jobs.state.v1 topic, keyed by job id."""

from __future__ import annotations

import logging

from google.protobuf.message import DecodeError

from dubset.v1 import jobs_pb2
from dubset_common.bus import Bus, Producer

log = logging.getLogger(__name__)


class StateStore:
    """Writes every change; on start, reads the topic back to the newest revision per job."""

    def __init__(self, bus: Bus, topic: str) -> None:
        self.bus = bus
        self.topic = topic
        self._producer: Producer | None = None

    def load(self) -> dict[str, jobs_pb2.JobStatus]:
        """The newest revision of every job (an empty value deletes, as compaction would)."""
        jobs: dict[str, jobs_pb2.JobStatus] = {}
        for record in self.bus.read_topic(self.topic):
            key = (record.key or b"").decode(errors="replace")
            if not record.value:
                jobs.pop(key, None)
                continue
            try:
                status = jobs_pb2.JobStatus.FromString(record.value)
            except DecodeError:
                log.warning("skipping an unreadable state record at %d", record.offset)
                continue
            if not status.job_id or status.job_id != key:
                log.warning("skipping a state record whose key is not its job id: %r", key)
                continue
            old = jobs.get(key)
            if old is None or status.revision >= old.revision:
                jobs[key] = status
        return jobs

    def save(self, status: jobs_pb2.JobStatus) -> None:
        """Publish and wait until durable (raises TransientError)."""
        if self._producer is None:
            self._producer = self.bus.producer()
        self._producer.publish(self.topic, status.job_id.encode(), status.SerializeToString())

    def delete(self, job_id: str) -> None:
        """A tombstone for job_id: compaction drops the job, and load() forgets it."""
        if self._producer is None:
            self._producer = self.bus.producer()
        self._producer.publish(self.topic, job_id.encode(), None)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
