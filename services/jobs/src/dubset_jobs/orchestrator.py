"""The orchestrator: jobs in memory, state on the compacted topic, one DAG per episode."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from dubset.v1 import jobs_pb2
from dubset_common import topics
from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.errors import TransientError
from dubset_common.health import LoopHealth
from dubset_common.objstore import ObjectStore
from dubset_jobs import convert
from dubset_jobs.admission import admit
from dubset_jobs.consumer_loop import ConsumerLoop
from dubset_jobs.core import dag, events, state
from dubset_jobs.core.model import Job
from dubset_jobs.ingest_records import IngestRecords
from dubset_jobs.jobtable import JobTable, broken_status
from dubset_jobs.metrics import JobsMetrics
from dubset_jobs.results import StageResults
from dubset_jobs.statestore import StateStore
from dubset_jobs.stepper import Stepper, abort, now_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobsOptions:
    stage_timeout_s: float = 3600.0
    max_tries: int = 3
    retry_backoff_s: float = 5.0
    max_media_bytes: int = 20 * 1024**3
    tick_s: float = 0.5
    poll_timeout_s: float = 0.5
    admission_workers: int = 2
    retention_s: float = 7 * 24 * 3600.0  # a finished job is forgotten (tombstoned) after this

    @classmethod
    def from_settings(cls, s: Settings) -> JobsOptions:
        return cls(
            s.jobs_stage_timeout_s,
            s.jobs_max_tries,
            s.jobs_retry_backoff_s,
            s.jobs_max_media_bytes,
            retention_s=s.jobs_retention_s,
        )


class Orchestrator:
    """submit/get/watch/list/cancel/retry/wait over jobs whose state lives on the bus."""

    def __init__(
        self,
        bus: Bus,
        store: ObjectStore,
        options: JobsOptions,
        registry: CollectorRegistry | None = None,
        topic_prefix: str = "",
        *,
        health: LoopHealth | None = None,
    ) -> None:
        """health: told of each turn of the consumer loop and whether it holds its session."""
        self.bus, self.store, self.options, self.prefix = bus, store, options, topic_prefix
        self.health = health
        self.metrics = JobsMetrics.create(registry or CollectorRegistry())
        self.policy = events.Policy(
            int(options.stage_timeout_s * 1000),
            options.max_tries,
            int(options.retry_backoff_s * 1000),
            topic_prefix,
        )
        self.ingest_topic = topics.ingest(topic_prefix)
        self.dlq_topic = topics.dlq("ingest", topic_prefix)
        self.group = f"{topic_prefix}dubset-jobs"
        self.results_topics = {topics.results(s, topic_prefix): s for s in dag.STAGES}
        self.states = StateStore(bus, topics.jobs_state(topic_prefix))
        self._stop = threading.Event()
        self.table = JobTable(self._stop)
        self.list_jobs = self.table.list_jobs  # a page of statuses: JobTable.list_jobs
        self.stepper = Stepper(
            self.table, self.states, store, self.policy, self.metrics, self._stop
        )
        self._next_evict = 0.0
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Rebuild from the state topic, re-send running requests and step every active job
        once (re-sends tasks that were waiting out a backoff, re-writes a lost episode document),
        then consume and tick."""
        progress_topic = topics.progress(self.prefix)
        self.bus.ensure_topics([self.states.topic], compacted=True)
        self.bus.ensure_topics(
            [self.ingest_topic, self.dlq_topic, progress_topic]
            + [topics.requests(s, self.prefix) for s in dag.STAGES]
            + list(self.results_topics)
        )
        producer = self.stepper.producer = self.bus.producer()
        self._rebuild()
        self._pool = ThreadPoolExecutor(self.options.admission_workers, "jobs-admit")
        loop = ConsumerLoop(
            self.bus,
            self.group,
            ingest_topic=self.ingest_topic,
            progress_topic=progress_topic,
            results_topics=self.results_topics,
            results=StageResults(self.stepper, self.store),
            ingest=IngestRecords(
                self.store, self.submit, producer, self.dlq_topic, self.metrics, self._stop
            ),
            pool=self._pool,
            stop=self._stop,
            poll_timeout_s=self.options.poll_timeout_s,
            health=self.health,
        )
        for name, target in (("jobs-consume", loop.run), ("jobs-timer", self._timer)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _rebuild(self) -> None:
        """Every job of the state topic into the table; the active ones re-sent and stepped."""
        table = self.table
        now = now_ms()
        for job_id, status in self.stepper.retrying(self.states.load).items():
            try:
                job = convert.job_of(status, now, self.policy.stage_timeout_ms)
            except Exception as exc:  # a state this version cannot read: shown, not dropped
                log.error("cannot rebuild job %s: %s", job_id, exc)
                table.broken[job_id] = broken_status(status, exc)
                continue
            with table.cond:
                table.jobs[job_id], table.subs[job_id] = job, status.submission
                table.locks[job_id] = threading.Lock()
                table.versions[job_id] = 0
        for job in list(table.jobs.values()):
            if not job.terminal:
                self._restart(job)
        self.stepper.gauge()
        log.info("rebuilt %d jobs (%d active)", len(table.jobs), table.active())

    def _restart(self, job: Job) -> None:
        """Re-send a rebuilt job's running requests, then Tick it; a job that cannot be re-sent
        fails with a reason instead of stopping the service."""
        try:
            for send in state.resend(job):
                self.stepper.send(job, send)
        except Exception as exc:
            if self._stop.is_set():
                raise
            log.exception("job %s: cannot re-send its requests", job.job_id)
            self.stepper.step(job.job_id, abort(exc))
            return
        self.stepper.step(job.job_id, events.Tick())

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.states.close()
        if self.stepper.producer is not None:
            self.stepper.producer.close()
        with self.table.cond:
            self.table.cond.notify_all()

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    # -- the API ----------------------------------------------------------------------------

    def submit(
        self, submission: jobs_pb2.EpisodeSubmission, source: str = "grpc"
    ) -> tuple[jobs_pb2.JobStatus, bool]:
        """Admit and start a job; (its status, True) when an identical one already exists."""
        admitted = admit(submission, self.store, self.options.max_media_bytes)
        if not admitted.submission.submitted_unix_ms:
            admitted.submission.submitted_unix_ms = now_ms()
        job_id = admitted.job_id
        table = self.table
        with table.cond:
            if job_id in table.jobs:
                return table.status(job_id), True
            lock = table.locks.setdefault(job_id, threading.Lock())
        with lock:
            with table.cond:
                if job_id in table.jobs:
                    return table.status(job_id), True
            job, actions = state.new_job(job_id, admitted.spec, self.policy, now_ms())
            table.subs[job_id] = admitted.submission
            table.broken.pop(job_id, None)
            self.stepper.commit_change(None, job)
            self.stepper.run_actions(job_id, job, list(actions))
        self.metrics.submitted.labels(source).inc()
        log.info("job %s submitted for %s", job_id, admitted.spec.episode_id)
        return self.table.status(job_id), False

    def get(self, job_id: str) -> jobs_pb2.JobStatus:
        return self.table.get(job_id)

    def watch(
        self, job_id: str, stop: threading.Event | None = None
    ) -> Iterator[jobs_pb2.JobStatus]:
        """The current status, then each change (progress included); ends after a terminal one
        or when stop (or the service's own stop) is set."""
        return self.table.watch(job_id, stop)

    def wait(self, job_id: str, timeout_s: float | None = None) -> jobs_pb2.JobStatus:
        """Block until the job is terminal (TimeoutError after timeout_s)."""
        return self.table.wait(job_id, timeout_s)

    def cancel(self, job_id: str, reason: str = "") -> jobs_pb2.JobStatus:
        self.stepper.step(job_id, events.Cancel(reason or "cancelled by request"))
        return self.get(job_id)

    def retry(self, job_id: str) -> jobs_pb2.JobStatus:
        self.stepper.step(job_id, events.Retry())
        return self.get(job_id)

    # -- the timer ----------------------------------------------------------------------------

    def _timer(self) -> None:
        while not self._stop.wait(self.options.tick_s):
            now = now_ms()
            if time.monotonic() >= self._next_evict:
                self._next_evict = time.monotonic() + min(60.0, self.options.retention_s)
                try:
                    self._evict(now - int(self.options.retention_s * 1000))
                except TransientError as exc:  # only when stopping
                    log.warning("eviction stopped: %s", exc)
            with self.table.cond:
                due = [
                    j.job_id
                    for j in self.table.jobs.values()
                    if (d := state.next_due(j)) is not None and d <= now
                ]
            for job_id in due:
                self.stepper.step(job_id, events.Tick())

    def _evict(self, horizon_ms: int) -> None:
        """Forget finished jobs last changed before horizon_ms: a tombstone on the state topic
        (compaction then drops the job), then out of memory. A job being changed is skipped."""
        table = self.table
        with table.cond:
            old = [
                j.job_id for j in table.jobs.values() if j.terminal and j.updated_ms < horizon_ms
            ]
        for job_id in old:
            lock = table.locks.get(job_id)
            if lock is None or not lock.acquire(blocking=False):
                continue
            try:
                job = table.jobs.get(job_id)
                if job is None or not job.terminal or job.updated_ms >= horizon_ms:
                    continue
                self.stepper.retrying(functools.partial(self.states.delete, job_id))
                with table.cond:
                    table.jobs.pop(job_id, None)
                    table.subs.pop(job_id, None)
                    table.versions.pop(job_id, None)
                    table.locks.pop(job_id, None)
                    table.cond.notify_all()
                log.info("job %s forgotten after its retention", job_id)
            finally:
                lock.release()
        self.stepper.gauge()
