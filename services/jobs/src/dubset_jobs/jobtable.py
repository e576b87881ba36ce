"""The jobs in memory and the read side of the API: get, watch, list, wait."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator

from dubset.v1 import jobs_pb2
from dubset_common.errors import InvalidInputError, NotFoundError
from dubset_jobs import convert
from dubset_jobs.core.model import Job

MAX_PAGE = 500
DEFAULT_PAGE = 50


class JobTable:
    """Every job the service knows, under one condition the writers notify on each change."""

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping
        self.cond = threading.Condition()
        self.jobs: dict[str, Job] = {}
        self.subs: dict[str, jobs_pb2.EpisodeSubmission] = {}
        self.locks: dict[str, threading.Lock] = {}  # one writer per job
        self.versions: dict[str, int] = {}  # bumped on every change, progress included
        # Jobs whose stored state could not be rebuilt: shown FAILED, never orchestrated.
        self.broken: dict[str, jobs_pb2.JobStatus] = {}

    def get(self, job_id: str) -> jobs_pb2.JobStatus:
        with self.cond:
            if job_id in self.broken:
                return self.broken[job_id]
            if job_id not in self.jobs:
                raise NotFoundError(f"no job {job_id!r:.140}")
            return self.status(job_id)

    def watch(
        self, job_id: str, stop: threading.Event | None = None
    ) -> Iterator[jobs_pb2.JobStatus]:
        """The current status, then each change (progress included); ends after a terminal one."""
        seen = -1
        while True:
            with self.cond:
                if job_id not in self.jobs:
                    raise NotFoundError(f"no job {job_id!r:.140}")
                while self.versions[job_id] == seen and not self.halted(stop):
                    self.cond.wait(0.5)
                if self.halted(stop):
                    return
                seen = self.versions[job_id]
                status, terminal = self.status(job_id), self.jobs[job_id].terminal
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
        with self.cond:
            jobs = sorted(self.jobs.values(), key=lambda j: (j.created_ms, j.job_id), reverse=True)
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
            out = [self.status(j.job_id) for j in page]
        token = _encode_token(page[-1]) if len(picked) > size else ""
        return out, token

    def wait(self, job_id: str, timeout_s: float | None = None) -> jobs_pb2.JobStatus:
        """Block until the job is terminal (TimeoutError after timeout_s)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self.cond:
            while True:
                if job_id in self.broken:
                    return self.broken[job_id]
                if job_id not in self.jobs:
                    raise NotFoundError(f"no job {job_id!r:.140}")
                if self.jobs[job_id].terminal:
                    return self.status(job_id)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"job {job_id} not finished after {timeout_s} s")
                self.cond.wait(0.5 if left is None else min(left, 0.5))

    def status(self, job_id: str) -> jobs_pb2.JobStatus:
        return convert.status_of(self.jobs[job_id], self.subs[job_id])

    def halted(self, stop: threading.Event | None) -> bool:
        return self.stopping.is_set() or (stop is not None and stop.is_set())

    def active(self) -> int:
        return sum(1 for j in self.jobs.values() if not j.terminal)


def broken_status(status: jobs_pb2.JobStatus, exc: Exception) -> jobs_pb2.JobStatus:
    out = jobs_pb2.JobStatus()
    out.CopyFrom(status)
    out.state = jobs_pb2.JOB_STATE_FAILED
    out.error_stage, out.error_code = "jobs", "INTERNAL"
    out.error_reason = (
        f"this jobs service cannot read the job's stored state ({type(exc).__name__}: {exc}); "
        "submit the episode again"
    )
    return out


def _encode_token(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_ms}:{job.job_id}".encode()).decode()


def _decode_token(token: str) -> tuple[int, str]:
    try:
        created, _, job_id = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        return int(created), job_id
    except ValueError:
        raise InvalidInputError(f"page_token {token!r:.40} is not one this service gave") from None
