"""The orchestrator: jobs in memory, state on the compacted topic, one DAG per episode."""

from __future__ import annotations

import base64
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
from dubset_common.keys import canonical_json, join_key, sha256_hex
from dubset_common.objstore import ObjectStore
from dubset_jobs import convert
from dubset_jobs.admission import admit
from dubset_jobs.core import dag, state
from dubset_jobs.core.model import Job, Ref
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

    @classmethod
    def from_settings(cls, s: Settings) -> JobsOptions:
        return cls(
            s.jobs_stage_timeout_s, s.jobs_max_tries, s.jobs_retry_backoff_s, s.jobs_max_media_bytes
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
    ) -> None:
        self.bus, self.store, self.options, self.prefix = bus, store, options, topic_prefix
        self.metrics = JobsMetrics.create(registry or CollectorRegistry())
        self.policy = state.Policy(
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
        self._jobs: dict[str, Job] = {}
        self._subs: dict[str, jobs_pb2.EpisodeSubmission] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._versions: dict[str, int] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._producer: Producer | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._ingest: object | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Rebuild from the state topic, re-send running requests, then consume and tick."""
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
            except DubsetError as exc:
                log.error("cannot rebuild job %s: %s", job_id, exc)
                continue
            with self._cond:
                self._jobs[job_id], self._subs[job_id] = job, status.submission
                self._locks[job_id] = threading.Lock()
                self._versions[job_id] = 0
        for job in list(self._jobs.values()):
            for send in state.resend(job):
                self._send(job, send)
        self._gauge()
        log.info("rebuilt %d jobs (%d active)", len(self._jobs), self._active())
        self._pool = ThreadPoolExecutor(self.options.admission_workers, "jobs-admit")
        ingest = Ingest(self)
        self._ingest = ingest
        for name, target in (("jobs-consume", ingest.consume), ("jobs-timer", self._timer)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

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
                return self._status(job_id), True
            lock = self._locks.setdefault(job_id, threading.Lock())
        with lock:
            with self._cond:
                if job_id in self._jobs:
                    return self._status(job_id), True
            job, actions = state.new_job(job_id, admitted.spec, self.policy, now_ms())
            self._subs[job_id] = admitted.submission
            self._commit_change(None, job)
            self._run_actions(job_id, job, list(actions))
        self.metrics.submitted.labels(source).inc()
        log.info("job %s submitted for %s", job_id, admitted.spec.episode_id)
        return self._status(job_id), False

    def get(self, job_id: str) -> jobs_pb2.JobStatus:
        with self._cond:
            if job_id not in self._jobs:
                raise NotFoundError(f"no job {job_id!r:.140}")
            return self._status(job_id)

    def watch(
        self, job_id: str, stop: threading.Event | None = None
    ) -> Iterator[jobs_pb2.JobStatus]:
        """The current status, then each change (progress included); ends after a terminal one."""
        seen = -1
        while True:
            with self._cond:
                if job_id not in self._jobs:
                    raise NotFoundError(f"no job {job_id!r:.140}")
                while self._versions[job_id] == seen and not self._halted(stop):
                    self._cond.wait(0.5)
                if self._halted(stop):
                    return
                seen = self._versions[job_id]
                status, terminal = self._status(job_id), self._jobs[job_id].terminal
            yield status
            if terminal:
                return

    def list_jobs(
        self,
        states: list[int] | tuple[int, ...] = (),
        episode_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[jobs_pb2.JobStatus], str]:
        size = min(MAX_PAGE, page_size if page_size > 0 else DEFAULT_PAGE)
        after = _decode_token(page_token) if page_token else None
        with self._cond:
            jobs = sorted(self._jobs.values(), key=lambda j: (j.created_ms, j.job_id), reverse=True)
            wanted = {
                jobs_pb2.JobState.Name(jobs_pb2.JobState.ValueType(s)).removeprefix("JOB_STATE_")
                for s in states
            }
            picked = [
                j
                for j in jobs
                if (not wanted or j.phase.value in wanted)
                and (not episode_id or j.spec.episode_id == episode_id)
                and (after is None or (j.created_ms, j.job_id) < after)
            ]
            page = picked[:size]
            out = [self._status(j.job_id) for j in page]
        token = _encode_token(page[-1]) if len(picked) > size else ""
        return out, token

    def cancel(self, job_id: str, reason: str = "") -> jobs_pb2.JobStatus:
        self._step(job_id, state.Cancel(reason or "cancelled by request"))
        return self.get(job_id)

    def retry(self, job_id: str) -> jobs_pb2.JobStatus:
        self._step(job_id, state.Retry())
        return self.get(job_id)

    def wait(self, job_id: str, timeout_s: float | None = None) -> jobs_pb2.JobStatus:
        """Block until the job is terminal (TimeoutError after timeout_s)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while True:
                if job_id not in self._jobs:
                    raise NotFoundError(f"no job {job_id!r:.140}")
                if self._jobs[job_id].terminal:
                    return self._status(job_id)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"job {job_id} not finished after {timeout_s} s")
                self._cond.wait(0.5 if left is None else min(left, 0.5))

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
        self._step(event.job_id, state.Progress(event.request_id, p.fraction, p.message))

    def _timer(self) -> None:
        while not self._stop.wait(self.options.tick_s):
            now = now_ms()
            with self._cond:
                due = [
                    j.job_id
                    for j in self._jobs.values()
                    if (d := state.next_due(j)) is not None and d <= now
                ]
            for job_id in due:
                self._step(job_id, state.Tick())

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

    def _step(self, job_id: str, event: state.Event) -> None:
        with self._cond:
            if job_id not in self._jobs:
                raise NotFoundError(f"no job {job_id!r:.140}")
            lock = self._locks[job_id]
        with lock:
            job = self._jobs[job_id]
            try:
                new, actions = state.apply(job, event, self.policy, now_ms())
            except (InvalidInputError, NotFoundError):
                raise
            except Exception as exc:  # a bug: contained to this job
                log.exception("job %s failed in the jobs service", job_id)
                new, actions = state.apply(job, self._abort(exc), self.policy, now_ms())
            if new is job:
                return
            self._commit_change(job, new)
            self._run_actions(job_id, new, list(actions))

    def _abort(self, exc: Exception) -> state.Abort:
        return state.Abort(
            f"the jobs service failed on this job ({type(exc).__name__}: {exc}); "
            "see its logs, then retry the job"
        )

    def _run_actions(self, job_id: str, job: Job, actions: list[state.Action]) -> None:
        """Send requests and write the episode document (then feed DocWritten back)."""
        while actions:
            action = actions.pop(0)
            try:
                if isinstance(action, state.Send):
                    self._send(job, action)
                    continue
                ref = self._retrying(functools.partial(self._write_doc, action.doc))
                new, more = state.apply(job, state.DocWritten(ref), self.policy, now_ms())
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

    def _send(self, job: Job, send: state.Send) -> None:
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

    def _status(self, job_id: str) -> jobs_pb2.JobStatus:
        return convert.status_of(self._jobs[job_id], self._subs[job_id])

    def _halted(self, stop: threading.Event | None) -> bool:
        return self._stop.is_set() or (stop is not None and stop.is_set())

    def _active(self) -> int:
        return sum(1 for j in self._jobs.values() if not j.terminal)

    def _gauge(self) -> None:
        with self._cond:
            self.metrics.active.set(self._active())


def _encode_token(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_ms}:{job.job_id}".encode()).decode()


def _decode_token(token: str) -> tuple[int, str]:
    try:
        created, _, job_id = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        return int(created), job_id
    except ValueError:
        raise InvalidInputError(f"page_token {token!r:.40} is not one this service gave") from None
