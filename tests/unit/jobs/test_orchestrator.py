"""The orchestrator end to end over the in-process bus and a local store, fake stage workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, jobs_pb2, separation_pb2
from dubset_common import topics
from dubset_common.bus import InProcBus
from dubset_common.errors import InvalidInputError, NotFoundError
from dubset_common.health import LoopHealth
from dubset_common.objstore import LocalStore
from dubset_jobs.core import dag
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from tests.unit.jobs.fakes import FakeWorkers, submission

OPTIONS = JobsOptions(
    stage_timeout_s=30, max_tries=2, retry_backoff_s=0.05, tick_s=0.05, poll_timeout_s=0.05
)
SUCCEEDED = jobs_pb2.JOB_STATE_SUCCEEDED
FAILED = jobs_pb2.JOB_STATE_FAILED


@pytest.fixture
def workers(bus: InProcBus, store: LocalStore) -> Iterator[FakeWorkers]:
    w = FakeWorkers(bus, store).start()
    yield w
    w.close()


@pytest.fixture
def orch(bus: InProcBus, store: LocalStore) -> Iterator[Orchestrator]:
    o = Orchestrator(bus, store, OPTIONS, CollectorRegistry())
    o.start()
    yield o
    o.stop()


def test_submission_runs_every_task_and_a_duplicate_maps_to_it(
    orch: Orchestrator, workers: FakeWorkers, store: LocalStore
) -> None:
    status, existing = orch.submit(submission(store))
    assert not existing
    assert status.episode_id.startswith("test-show-1-e01-")
    done = orch.wait(status.job_id, 20)
    assert done.state == SUCCEEDED, done.error_reason
    assert [s.stage for s in done.stages] == [t.name for t in dag.TASKS]
    assert all(s.state == "DONE" and s.backend.startswith("fake-") for s in done.stages)
    assert all(s.sent_unix_ms and s.received_unix_ms >= s.sent_unix_ms for s in done.stages)
    assert "episode" in done.outputs and "asr.ja/transcript" in done.outputs
    assert done.ja_offset_known and done.ja_offset_ms == 1500
    sep = next(r for r in workers.requests if r.stage == "separation")
    sp = separation_pb2.SeparationParams()  # the measured offset reached separation's params
    assert sep.params.Unpack(sp) and sp.ja_offset_ms == 1500
    again, existing = orch.submit(submission(store))
    assert existing and again.job_id == status.job_id
    # The state topic holds every revision, the last one terminal.
    states = [
        jobs_pb2.JobStatus.FromString(r.value) for r in orch.bus.read_topic(topics.jobs_state())
    ]
    newest = max(states, key=lambda s: s.revision)
    assert newest.state == SUCCEEDED and newest.revision == done.revision


def test_failing_stage_fails_its_job_with_a_reason_while_another_succeeds(
    bus: InProcBus, store: LocalStore, orch: Orchestrator
) -> None:
    def fail(request: common_pb2.StageRequest) -> tuple[str, str] | None:
        if request.stage == "media" and "e02" in request.episode_id:
            return "INVALID_INPUT", "the JA and EN videos are not the same episode: 20 s vs 40 s"
        return None

    workers = FakeWorkers(bus, store, fail=fail).start()
    try:
        bad, _ = orch.submit(submission(store, 2))
        good, _ = orch.submit(submission(store, 3))
        bad_done = orch.wait(bad.job_id, 20)
        assert bad_done.state == FAILED
        assert (bad_done.error_stage, bad_done.error_code) == ("media", "INVALID_INPUT")
        assert bad_done.error_reason.startswith("media: the JA and EN videos are not the same")
        assert orch.wait(good.job_id, 20).state == SUCCEEDED
    finally:
        workers.close()


def test_restart_mid_job_rebuilds_and_finishes_without_acting_twice(
    bus: InProcBus, store: LocalStore
) -> None:
    workers = FakeWorkers(bus, store, hold={"alignment"}).start()
    first = Orchestrator(bus, store, OPTIONS, CollectorRegistry())
    first.start()
    try:
        status, _ = first.submit(submission(store, 4))
        for _ in range(400):
            if any(r.stage == "alignment" for r in workers.requests):
                break
            threading.Event().wait(0.05)
        first.stop()
        second = Orchestrator(bus, store, OPTIONS, CollectorRegistry())
        second.start()
        workers.release.set()
        done = second.wait(status.job_id, 20)
        second.stop()
    finally:
        workers.close()
    assert done.state == SUCCEEDED
    by_task: dict[str, set[str]] = {}
    for r in workers.requests:
        by_task.setdefault(r.request_id.split(".1.", 1)[1].rsplit(".", 1)[0], set()).add(
            r.request_id
        )
    # One request id per task: the re-sent alignment request kept its id; nothing re-ran.
    assert all(len(ids) == 1 for ids in by_task.values()), by_task
    assert sum(r.stage == "alignment" for r in workers.requests) == 2  # original + re-send
    assert sum(r.stage == "packaging" for r in workers.requests) == 1


def test_watch_yields_progress_then_ends_on_the_terminal_state(
    orch: Orchestrator, workers: FakeWorkers, store: LocalStore
) -> None:
    status, _ = orch.submit(submission(store, 5))
    seen = list(orch.watch(status.job_id))
    assert seen[-1].state == SUCCEEDED
    assert any(0 < s.fraction < 1 and s.message == "half" for st in seen for s in st.stages)
    with pytest.raises(NotFoundError):
        next(orch.watch("nope"))


def test_list_pages_newest_first_and_filters(
    orch: Orchestrator, workers: FakeWorkers, store: LocalStore
) -> None:
    ids = []
    for n in (6, 7, 8):
        ids.append(orch.submit(submission(store, n))[0].job_id)
        threading.Event().wait(0.01)
    for job_id in ids:
        orch.wait(job_id, 20)
    page, token = orch.list_jobs(page_size=2)
    assert [j.job_id for j in page] == ids[::-1][:2] and token
    rest, token2 = orch.list_jobs(page_size=2, page_token=token)
    assert [j.job_id for j in rest] == [ids[0]] and token2 == ""
    assert orch.list_jobs(states=[FAILED])[0] == []
    ep = page[0].episode_id
    assert [j.episode_id for j in orch.list_jobs(episode_id=ep)[0]] == [ep]
    with pytest.raises(InvalidInputError):
        orch.list_jobs(page_token="garbage!")


def test_cancel_and_retry(bus: InProcBus, store: LocalStore, orch: Orchestrator) -> None:
    workers = FakeWorkers(bus, store, hold={"media"}).start()
    try:
        status, _ = orch.submit(submission(store, 9))
        cancelled = orch.cancel(status.job_id, "wrong files")
        assert cancelled.state == jobs_pb2.JOB_STATE_CANCELLED
        assert cancelled.error_reason == "wrong files"
        workers.release.set()
        retried = orch.retry(status.job_id)
        assert retried.attempt == 2
        assert orch.wait(status.job_id, 20).state == SUCCEEDED
        with pytest.raises(InvalidInputError, match="only a failed or cancelled"):
            orch.retry(status.job_id)
    finally:
        workers.close()


@pytest.mark.parametrize(
    ("change", "error", "needle"),
    [
        ({"episode_id": "../../x"}, InvalidInputError, "invalid episode id"),
        ({"submission_id": "a/b"}, InvalidInputError, "invalid submission id"),
        ({"ja": "missing.mp4"}, NotFoundError, "the JA video file://"),
        ({"show": ""}, InvalidInputError, "show.show"),
        ({"empty": "ja"}, InvalidInputError, r"the JA video file://.* is empty \(0 bytes\)"),
    ],
)
def test_bad_submissions_are_refused(
    orch: Orchestrator, store: LocalStore, change: dict[str, str], error: type, needle: str
) -> None:
    sub = submission(store, 10)
    if "episode_id" in change:
        sub.episode_id = change["episode_id"]
    if "submission_id" in change:
        sub.submission_id = change["submission_id"]
    if "ja" in change:
        sub.ja_media.uri = store.uri(change["ja"])
    if "show" in change:
        sub.show.show = ""
    if "empty" in change:
        sub.ja_media.uri = store.put_bytes("in/empty/ja.mp4", b"").uri
    with pytest.raises(error, match=needle):
        orch.submit(sub)
    assert orch.list_jobs()[0] == []


def test_ingest_topic_submissions_and_dead_letters(
    bus: InProcBus, orch: Orchestrator, workers: FakeWorkers, store: LocalStore
) -> None:
    producer = bus.producer()
    good = submission(store, 11)
    missing = submission(store, 12)
    missing.en_media.uri = store.uri("in/none.mp4")
    producer.publish(topics.ingest(), b"k1", good.SerializeToString())
    producer.publish(topics.ingest(), b"k2", b"\x00garbage\xff")
    producer.publish(topics.ingest(), b"k3", missing.SerializeToString())
    for _ in range(200):
        if orch.list_jobs()[0] and len(bus.records(topics.dlq("ingest"))) >= 2:
            break
        threading.Event().wait(0.05)
    (job,) = orch.list_jobs()[0]
    assert orch.wait(job.job_id, 20).state == SUCCEEDED
    letters = [common_pb2.DeadLetter.FromString(r.value) for r in bus.records(topics.dlq("ingest"))]
    assert sorted(x.error_code for x in letters) == ["INVALID_INPUT", "NOT_FOUND"]
    assert any(
        "the EN video" in x.error_message and "does not exist" in x.error_message for x in letters
    )


def test_the_ingest_consumer_reports_its_heartbeat_to_the_health_endpoint(
    bus: InProcBus, store: LocalStore
) -> None:
    """The jobs service's consumer loop feeds /healthz and /readyz like a stage worker's."""
    now = [1000.0]
    health = LoopHealth(60, 300, clock=lambda: now[0])
    o = Orchestrator(bus, store, OPTIONS, CollectorRegistry(), health=health)
    assert health.readiness().status == "starting"
    o.start()
    try:
        for _ in range(100):
            if health.readiness().ok:
                break
            threading.Event().wait(0.05)
        assert health.readiness().ok and health.liveness().ok
        now[0] += 61
        for _ in range(100):  # the loop keeps going round: fresh heartbeats
            if health.liveness().ok:
                break
            threading.Event().wait(0.05)
        assert health.liveness().ok
    finally:
        o.stop()
    now[0] += 61  # nothing goes round any more
    assert health.liveness().status == "stalled"
