"""The orchestrator: jobs in memory, state on the compacted topic, one DAG per episode."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, jobs_pb2
from dubset_common import topics
from dubset_common.bus import Bus, Producer
from dubset_common.config import Settings
from dubset_common.errors import DubsetError, InvalidInputError, NotFoundError, TransientError
from dubset_common.health import LoopHealth
from dubset_common.keys import canonical_json, join_key, sha256_hex
from dubset_common.objstore import ObjectStore
from dubset_jobs import convert
from dubset_jobs.admission import admit
from dubset_jobs.core import dag, events, state
from dubset_jobs.core.model import Job, Ref
from dubset_jobs.jobtable import JobTable, broken_status
from dubset_jobs.metrics import JobsMetrics
from dubset_jobs.statestore import StateStore

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_PAGE = 500
DEFAULT_PAGE = 50


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


def now_ms() -> int:
    return int(time.time() * 1000)


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
        # The table's own objects, shared: the writers below change them under _cond.
        self._cond, self._jobs, self._subs = self.table.cond, self.table.jobs, self.table.subs
        self._locks, self._versions = self.table.locks, self.table.versions
        self._broken = self.table.broken
        self._next_evict = 0.0
        self._threads: list[threading.Thread] = []
        self._producer: Producer | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._ingest: object | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Rebuild from the state topic, re-send running requests and step every active job
        once (re-sends tasks that were waiting out a backoff, re-writes a lost episode document),
        then consume and tick."""
        from dubset_jobs.ingesting import Ingest

        self.bus.ensure_topics([self.states.topic], compacted=True)
        self.bus.ensure_topics(
            [self.ingest_topic, self.dlq_topic, topics.progress(self.prefix)]
            + [topics.requests(s, self.prefix) for s in dag.STAGES]
            + list(self.results_topics)
        )
        self._producer = self.bus.producer()
        now = now_ms()
        for job_id, status in self._retrying(self.states.load).items():
            try:
                job = convert.job_of(status, now, self.policy.stage_timeout_ms)
            except Exception as exc:  # a state this version cannot read: shown, not dropped
                log.error("cannot rebuild job %s: %s", job_id, exc)
                self._broken[job_id] = broken_status(status, exc)
                continue
            with self._cond:
                self._jobs[job_id], self._subs[job_id] = job, status.submission
                self._locks[job_id] = threading.Lock()
                self._versions[job_id] = 0
        for job in list(self._jobs.values()):
            if not job.terminal:
                self._restart(job)
        self._gauge()
        log.info("rebuilt %d jobs (%d active)", len(self._jobs), self.table.active())
        self._pool = ThreadPoolExecutor(self.options.admission_workers, "jobs-admit")
        ingest = Ingest(self)
        self._ingest = ingest
        for name, target in (("jobs-consume", ingest.consume), ("jobs-timer", self._timer)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _restart(self, job: Job) -> None:
        """Re-send a rebuilt job's running requests, then Tick it; a job that cannot be re-sent
        fails with a reason instead of stopping the service."""
        try:
            for send in state.resend(job):
                self._send(job, send)
        except Exception as exc:
            if self._stop.is_set():
                raise
            log.exception("job %s: cannot re-send its requests", job.job_id)
            self._step(job.job_id, self._abort(exc))
            return
        self._step(job.job_id, events.Tick())

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.states.close()
        if self._producer is not None:
            self._producer.close()
        with self._cond:
            self._cond.notify_all()

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
        with self._cond:
            if job_id in self._jobs:
                return self.table.status(job_id), True
            lock = self._locks.setdefault(job_id, threading.Lock())
        with lock:
            with self._cond:
                if job_id in self._jobs:
                    return self.table.status(job_id), True
            job, actions = state.new_job(job_id, admitted.spec, self.policy, now_ms())
            self._subs[job_id] = admitted.submission
            self._broken.pop(job_id, None)
            self._commit_change(None, job)
            self._run_actions(job_id, job, list(actions))
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

    def list_jobs(
        self,
        states: list[int] | tuple[int, ...] = (),
        episode_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[jobs_pb2.JobStatus], str]:
        return self.table.list_jobs(states, episode_id, page_size, page_token)

    def wait(self, job_id: str, timeout_s: float | None = None) -> jobs_pb2.JobStatus:
        """Block until the job is terminal (TimeoutError after timeout_s)."""
        return self.table.wait(job_id, timeout_s)

    def cancel(self, job_id: str, reason: str = "") -> jobs_pb2.JobStatus:
        self._step(job_id, events.Cancel(reason or "cancelled by request"))
        return self.get(job_id)

    def retry(self, job_id: str) -> jobs_pb2.JobStatus:
        self._step(job_id, events.Retry())
        return self.get(job_id)

    # -- events from the consumer and the timer ----------------------------------------------

    def on_result(self, result: common_pb2.StageResult) -> None:
        with self._cond:
            job = self._jobs.get(result.job_id)
        if job is None:
            return  # not ours (another deployment's) or long gone
        offset = None
        if result.stage == "media" and result.status == common_pb2.STAGE_STATUS_OK:
            current = any(t.request_id == result.request_id for t in job.tasks)
            offset = self._media_offset(result) if current and not job.terminal else None
        self._step(result.job_id, convert.answer_of(result, offset))

    def on_progress(self, event: common_pb2.StageProgressEvent) -> None:
        with self._cond:
            if event.job_id not in self._jobs:
                return
        p = event.progress
        self._step(event.job_id, events.Progress(event.request_id, p.fraction, p.message))

    def _timer(self) -> None:
        while not self._stop.wait(self.options.tick_s):
            now = now_ms()
            if time.monotonic() >= self._next_evict:
                self._next_evict = time.monotonic() + min(60.0, self.options.retention_s)
                try:
                    self._evict(now - int(self.options.retention_s * 1000))
                except TransientError as exc:  # only when stopping
                    log.warning("eviction stopped: %s", exc)
            with self._cond:
                due = [
                    j.job_id
                    for j in self._jobs.values()
                    if (d := state.next_due(j)) is not None and d <= now
                ]
            for job_id in due:
                self._step(job_id, events.Tick())

    def _evict(self, horizon_ms: int) -> None:
        """Forget finished jobs last changed before horizon_ms: a tombstone on the state topic
        (compaction then drops the job), then out of memory. A job being changed is skipped."""
        with self._cond:
            old = [
                j.job_id for j in self._jobs.values() if j.terminal and j.updated_ms < horizon_ms
            ]
        for job_id in old:
            lock = self._locks.get(job_id)
            if lock is None or not lock.acquire(blocking=False):
                continue
            try:
                job = self._jobs.get(job_id)
                if job is None or not job.terminal or job.updated_ms >= horizon_ms:
                    continue
                self._retrying(functools.partial(self.states.delete, job_id))
                with self._cond:
                    self._jobs.pop(job_id, None)
                    self._subs.pop(job_id, None)
                    self._versions.pop(job_id, None)
                    self._locks.pop(job_id, None)
                    self._cond.notify_all()
                log.info("job %s forgotten after its retention", job_id)
            finally:
                lock.release()
        self._gauge()

    def _media_offset(self, result: common_pb2.StageResult) -> int | None:
        """ja_offset_ms from the media stage's manifest info (checked against its sha256)."""

        def read() -> bytes:
            return self.store.get_bytes(
                self.store.key_of(result.manifest.uri), max_bytes=16 * 1024 * 1024
            )

        try:
            raw = self._retrying(read)
        except DubsetError as exc:
            log.error("media manifest %s unreadable: %s", result.manifest.uri, exc)
            return None
        if result.manifest.sha256 and sha256_hex(raw) != result.manifest.sha256:
            log.error("media manifest %s does not match its sha256", result.manifest.uri)
            return None
        import json

        info = json.loads(raw).get("info", {})
        value = info.get("ja_offset_ms") if isinstance(info, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    # -- applying events ----------------------------------------------------------------------

    def _step(self, job_id: str, event: events.Event) -> None:
        with self._cond:
            if job_id not in self._jobs:
                raise NotFoundError(f"no job {job_id!r:.140}")
            lock = self._locks[job_id]
        with lock:
            job = self._jobs.get(job_id)
            if job is None:  # evicted meanwhile
                raise NotFoundError(f"no job {job_id!r:.140}")
            try:
                new, actions = state.apply(job, event, self.policy, now_ms())
            except (InvalidInputError, NotFoundError):
                raise
            except Exception as exc:  # a bug: contained to this job
                log.exception("job %s failed in the jobs service", job_id)
                new, actions = state.apply(job, self._abort(exc), self.policy, now_ms())
            if new is not job:
                self._commit_change(job, new)
            self._run_actions(job_id, new, list(actions))

    def _abort(self, exc: Exception) -> events.Abort:
        return events.Abort(
            f"the jobs service failed on this job ({type(exc).__name__}: {exc}); "
            "see its logs, then retry the job"
        )

    def _run_actions(self, job_id: str, job: Job, actions: list[events.Action]) -> None:
        """Send requests and write the episode document (then feed DocWritten back)."""
        while actions:
            action = actions.pop(0)
            try:
                if isinstance(action, events.Send):
                    self._send(job, action)
                    continue
                ref = self._retrying(functools.partial(self._write_doc, action.doc))
                new, more = state.apply(job, events.DocWritten(ref), self.policy, now_ms())
            except Exception as exc:
                if self._stop.is_set():
                    return  # rebuild re-sends on the next start
                log.exception("job %s: action failed", job_id)
                new, more = state.apply(job, self._abort(exc), self.policy, now_ms())
            if new is not job:
                self._commit_change(job, new)
                job = new
            actions.extend(more)

    def _write_doc(self, doc: object) -> Ref:
        data = canonical_json(doc)
        key = join_key("jobs", "episodes", f"{sha256_hex(data)}.json")
        info = self.store.put_bytes(key, data, "application/json")
        return Ref(info.uri, info.sha256, info.size_bytes, "application/json")

    def _send(self, job: Job, send: events.Send) -> None:
        request = convert.request_of(job, send, now_ms())
        if send.tries > 1:
            self.metrics.retries.labels(send.stage).inc()
        assert self._producer is not None
        producer = self._producer
        self._retrying(
            lambda: producer.publish(
                topics.requests(send.stage, self.prefix),
                job.spec.episode_id.encode(),
                request.SerializeToString(),
            )
        )

    def _commit_change(self, old: Job | None, new: Job) -> None:
        """Persist a new revision (durably, before any request it implies), then publish it to
        watchers and metrics; progress-only changes stay in memory."""
        if old is None or new.revision != old.revision:
            status = convert.status_of(new, self._subs[new.job_id])
            self._retrying(lambda: self.states.save(status))
        with self._cond:
            self._jobs[new.job_id] = new
            self._versions[new.job_id] = self._versions.get(new.job_id, 0) + 1
            self._cond.notify_all()
        if old is not None:
            for before, after in zip(old.tasks, new.tasks, strict=True):
                if after.received_ms and after.received_ms != before.received_ms and after.sent_ms:
                    stage = dag.BY_NAME[after.name].stage
                    seconds = max(0.0, (after.received_ms - after.sent_ms) / 1000)
                    self.metrics.stage_seconds.labels(stage).observe(seconds)
            if new.terminal and not old.terminal:
                self.metrics.finished.labels(new.phase.value).inc()
        self._gauge()

    def _retrying(self, fn: Callable[[], T]) -> T:
        """fn until it does not raise TransientError; the error itself once stopping."""
        delay = 0.2
        while True:
            try:
                return fn()
            except TransientError as exc:
                if self._stop.is_set():
                    raise
                log.warning("retrying in %.1f s: %s", delay, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _gauge(self) -> None:
        with self._cond:
            self.metrics.active.set(self.table.active())
