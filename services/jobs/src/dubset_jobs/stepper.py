"""Events applied to jobs, one writer per job; each revision is saved before its requests go."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from dubset_common import topics
from dubset_common.bus import Producer
from dubset_common.errors import InvalidInputError, NotFoundError
from dubset_common.keys import canonical_json, join_key, sha256_hex
from dubset_common.objstore import ObjectStore
from dubset_jobs import convert
from dubset_jobs.core import dag, events, state
from dubset_jobs.core.model import Job, Ref
from dubset_jobs.jobtable import JobTable
from dubset_jobs.metrics import JobsMetrics
from dubset_jobs.retrying import retrying
from dubset_jobs.statestore import StateStore

log = logging.getLogger(__name__)
T = TypeVar("T")


def now_ms() -> int:
    return int(time.time() * 1000)


def abort(exc: Exception) -> events.Abort:
    """The event for a failure of the jobs service itself on one job."""
    return events.Abort(
        f"the jobs service failed on this job ({type(exc).__name__}: {exc}); "
        "see its logs, then retry the job"
    )


class Stepper:
    """Runs the state machine on the table's jobs and carries out what it asks for."""

    def __init__(
        self,
        table: JobTable,
        states: StateStore,
        store: ObjectStore,
        policy: events.Policy,
        metrics: JobsMetrics,
        stop: threading.Event,
    ) -> None:
        self.table, self.states, self.store = table, states, store
        self.policy, self.metrics, self.stop = policy, metrics, stop
        self.producer: Producer | None = None  # the service's, once started

    def retrying(self, fn: Callable[[], T]) -> T:
        return retrying(fn, self.stop)

    def step(self, job_id: str, event: events.Event) -> None:
        """Apply event to the job under its lock (NotFoundError for an unknown job)."""
        table = self.table
        with table.cond:
            if job_id not in table.jobs:
                raise NotFoundError(f"no job {job_id!r:.140}")
            lock = table.locks[job_id]
        with lock:
            job = table.jobs.get(job_id)
            if job is None:  # evicted meanwhile
                raise NotFoundError(f"no job {job_id!r:.140}")
            try:
                new, actions = state.apply(job, event, self.policy, now_ms())
            except (InvalidInputError, NotFoundError):
                raise
            except Exception as exc:  # a bug: contained to this job
                log.exception("job %s failed in the jobs service", job_id)
                new, actions = state.apply(job, abort(exc), self.policy, now_ms())
            if new is not job:
                self.commit_change(job, new)
            self.run_actions(job_id, new, list(actions))

    def run_actions(self, job_id: str, job: Job, actions: list[events.Action]) -> None:
        """Send requests and write the episode document (then feed DocWritten back)."""
        while actions:
            action = actions.pop(0)
            try:
                if isinstance(action, events.Send):
                    self.send(job, action)
                    continue
                ref = self.retrying(functools.partial(self.write_doc, action.doc))
                new, more = state.apply(job, events.DocWritten(ref), self.policy, now_ms())
            except Exception as exc:
                if self.stop.is_set():
                    return  # rebuild re-sends on the next start
                log.exception("job %s: action failed", job_id)
                new, more = state.apply(job, abort(exc), self.policy, now_ms())
            if new is not job:
                self.commit_change(job, new)
                job = new
            actions.extend(more)

    def write_doc(self, doc: object) -> Ref:
        data = canonical_json(doc)
        key = join_key("jobs", "episodes", f"{sha256_hex(data)}.json")
        info = self.store.put_bytes(key, data, "application/json")
        return Ref(info.uri, info.sha256, info.size_bytes, "application/json")

    def send(self, job: Job, send: events.Send) -> None:
        request = convert.request_of(job, send, now_ms())
        if send.tries > 1:
            self.metrics.retries.labels(send.stage).inc()
        assert self.producer is not None
        producer = self.producer
        self.retrying(
            lambda: producer.publish(
                topics.requests(send.stage, self.policy.topic_prefix),
                job.spec.episode_id.encode(),
                request.SerializeToString(),
            )
        )

    def commit_change(self, old: Job | None, new: Job) -> None:
        """Persist a new revision (durably, before any request it implies), then publish it to
        watchers and metrics; progress-only changes stay in memory."""
        table = self.table
        if old is None or new.revision != old.revision:
            status = convert.status_of(new, table.subs[new.job_id])
            self.retrying(lambda: self.states.save(status))
        with table.cond:
            table.jobs[new.job_id] = new
            table.versions[new.job_id] = table.versions.get(new.job_id, 0) + 1
            table.cond.notify_all()
        if old is not None:
            for before, after in zip(old.tasks, new.tasks, strict=True):
                if after.received_ms and after.received_ms != before.received_ms and after.sent_ms:
                    stage = dag.task_of(new, after.name).stage
                    seconds = max(0.0, (after.received_ms - after.sent_ms) / 1000)
                    self.metrics.stage_seconds.labels(stage).observe(seconds)
            if new.terminal and not old.terminal:
                self.metrics.finished.labels(new.phase.value).inc()
        self.gauge()

    def gauge(self) -> None:
        with self.table.cond:
            self.metrics.active.set(self.table.active())
