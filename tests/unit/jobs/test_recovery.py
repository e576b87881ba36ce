"""Restarts, broken stored state, retention and admission limits of the orchestrator."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, jobs_pb2
from dubset_common import topics
from dubset_common.bus import InProcBus
from dubset_common.errors import InvalidInputError, NotFoundError, TransientError
from dubset_common.objstore import LocalStore
from dubset_jobs import convert
from dubset_jobs.core.model import Ref
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from tests.unit.jobs.fakes import FakeWorkers, submission

OPTIONS = JobsOptions(
    stage_timeout_s=30, max_tries=3, retry_backoff_s=0.05, tick_s=0.05, poll_timeout_s=0.05
)
SUCCEEDED = jobs_pb2.JOB_STATE_SUCCEEDED
FAILED = jobs_pb2.JOB_STATE_FAILED


@pytest.fixture
def started() -> Iterator[list[Orchestrator]]:
    """Orchestrators a test starts; stopped at its end."""
    out: list[Orchestrator] = []
    yield out
    for orch in out:
        orch.stop()


def _start(
    bus: InProcBus, store: object, started: list[Orchestrator], options: JobsOptions = OPTIONS
) -> Orchestrator:
    orch = Orchestrator(bus, store, options, CollectorRegistry())  # type: ignore[arg-type]
    started.append(orch)
    orch.start()
    return orch


def _until(check: object, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if check():  # type: ignore[operator]
            return
        threading.Event().wait(0.02)
    raise AssertionError("condition not met in time")


def test_a_task_waiting_out_a_backoff_is_sent_again_after_a_restart(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator]
) -> None:
    def fail(request: common_pb2.StageRequest) -> tuple[str, str] | None:
        first_media = request.stage == "media" and request.request_id.endswith(".1")
        return ("UNAVAILABLE", "the store is down") if first_media else None

    workers = FakeWorkers(bus, store, fail=fail).start()
    slow = JobsOptions(
        stage_timeout_s=30, max_tries=3, retry_backoff_s=600, tick_s=0.05, poll_timeout_s=0.05
    )
    try:
        first = _start(bus, store, started, slow)
        job_id = first.submit(submission(store, 1))[0].job_id

        def backing_off() -> bool:
            media = first.get(job_id).stages[0]
            return media.state == "PENDING" and media.tries == 1

        _until(backing_off)
        first.stop()
        second = _start(bus, store, started, slow)  # the 600 s backoff is not waited out again
        done = second.wait(job_id, 10)
    finally:
        workers.close()
    assert done.state == SUCCEEDED, done.error_reason
    assert done.stages[0].tries == 2  # media: the failed try, then one after the restart


def test_an_episode_document_lost_to_a_crash_is_written_after_a_restart(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator]
) -> None:
    workers = FakeWorkers(bus, store).start()
    try:
        first = _start(bus, store, started)
        crashed = threading.Event()

        def crash(doc: object) -> Ref:
            first.stopping.set()  # the process dies while writing the document
            crashed.set()
            raise TransientError("store unreachable")

        first.stepper.write_doc = crash  # type: ignore[method-assign]
        job_id = first.submit(submission(store, 2))[0].job_id
        assert crashed.wait(10)
        first.stop()
        assert "episode" not in first.get(job_id).outputs
        second = _start(bus, store, started)
        done = second.wait(job_id, 10)
    finally:
        workers.close()
    assert done.state == SUCCEEDED, done.error_reason
    assert "jobs/episode_document" in done.outputs and "episode" in done.outputs
    assert sum(r.stage == "packaging" for r in workers.requests) == 1


def test_a_job_that_cannot_be_sent_again_fails_and_the_service_starts(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator], monkeypatch: pytest.MonkeyPatch
) -> None:
    workers = FakeWorkers(bus, store, hold={"media"}).start()
    try:
        first = _start(bus, store, started)
        job_id = first.submit(submission(store, 3))[0].job_id
        _until(lambda: any(r.stage == "media" for r in workers.requests))
        first.stop()

        def refuse(*_args: object) -> None:
            raise InvalidInputError("media params: bad field")

        monkeypatch.setattr(convert, "request_of", refuse)
        second = _start(bus, store, started)
        status = second.get(job_id)
    finally:
        workers.close()
    assert status.state == FAILED and status.error_stage == "jobs"
    assert "media params: bad field" in status.error_reason


def test_a_stored_state_this_version_cannot_read_is_shown_failed(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator]
) -> None:
    broken = jobs_pb2.JobStatus(job_id="j-broken", revision=3, state=jobs_pb2.JOB_STATE_RUNNING)
    broken.stages.append(common_pb2.StageProgress(stage="media", state="SOMEDAY"))
    bus.producer().publish(topics.jobs_state(), b"j-broken", broken.SerializeToString())
    workers = FakeWorkers(bus, store).start()
    try:
        orch = _start(bus, store, started)
        status = orch.get("j-broken")
        assert orch.wait("j-broken", 1).state == FAILED
        good = orch.submit(submission(store, 4))[0]  # the service works for other jobs
        assert orch.wait(good.job_id, 10).state == SUCCEEDED
    finally:
        workers.close()
    assert status.state == FAILED and status.revision == 3
    assert "cannot read the job's stored state" in status.error_reason
    assert "SOMEDAY" in status.error_reason


def test_finished_jobs_are_forgotten_after_their_retention_with_a_tombstone(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator]
) -> None:
    short = JobsOptions(retry_backoff_s=0.05, tick_s=0.05, poll_timeout_s=0.05, retention_s=0.3)
    workers = FakeWorkers(bus, store).start()
    try:
        orch = _start(bus, store, started, short)
        job_id = orch.submit(submission(store, 5))[0].job_id
        assert orch.wait(job_id, 10).state == SUCCEEDED

        def forgotten() -> bool:
            try:
                orch.get(job_id)
            except NotFoundError:
                return True
            return False

        _until(forgotten)
        assert orch.list_jobs()[0] == []
    finally:
        workers.close()
    last = [r for r in bus.read_topic(topics.jobs_state()) if r.key == job_id.encode()][-1]
    assert last.value == b""  # a tombstone: compaction drops the job's every revision
    again = _start(bus, store, started)
    with pytest.raises(NotFoundError):
        again.get(job_id)


def test_a_submission_too_large_for_the_state_topic_is_refused(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator]
) -> None:
    orch = _start(bus, store, started)
    sub = submission(store, 6)
    sub.episode.synopsis = "x" * (300 * 1024)
    with pytest.raises(InvalidInputError, match=r"over the limit of 262144 \(256 KiB\)"):
        orch.submit(sub)
    assert orch.list_jobs()[0] == []


class _StoreDown:
    """The store answers nothing: admission waits it out."""

    def __init__(self, inner: LocalStore) -> None:
        self.inner = inner
        self.asked = threading.Event()

    def size(self, key: str) -> int:
        self.asked.set()
        raise TransientError("store unreachable")

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_stopping_while_the_store_is_down_leaves_ingest_records_for_redelivery(
    bus: InProcBus, store: LocalStore, started: list[Orchestrator]
) -> None:
    down = _StoreDown(store)
    orch = _start(bus, down, started)
    bus.producer().publish(topics.ingest(), b"k", submission(store, 7).SerializeToString())
    assert down.asked.wait(10)
    orch.stop()
    assert bus.records(topics.dlq("ingest")) == []
    assert sum(bus.committed(orch.group, topics.ingest(), p) for p in range(2)) == 0
