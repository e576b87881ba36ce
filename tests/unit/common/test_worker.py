"""The stage worker: results published before commits, failures dead-lettered, never stuck."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2
from dubset_common import topics
from dubset_common import worker as worker_module
from dubset_common.bus import InProcBus, partition_for
from dubset_common.errors import InvalidInputError, TransientError
from dubset_common.keys import sha256_hex
from dubset_common.ledger import DeliveryLedger
from dubset_common.logs import JsonFormatter
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import MANIFEST, StageExecutor
from dubset_common.testing.buses import EventLog, WrappedBus
from dubset_common.testing.stages import BACKEND, STAGE, FakeStage, RecordingStore, make_request
from dubset_common.testing.threads import running, wait_for
from dubset_common.worker import ProgressPublisher, StageWorker

REQUESTS, RESULTS, DLQ = topics.requests(STAGE), topics.results(STAGE), topics.dlq(STAGE)
GROUP = f"dubset-{STAGE}"


@dataclass
class Rig:
    bus: InProcBus
    store: RecordingStore
    stage: FakeStage
    registry: CollectorRegistry
    worker: StageWorker

    def send(self, request: common_pb2.StageRequest | bytes, key: bytes | None = None) -> None:
        if isinstance(request, common_pb2.StageRequest):
            key = key or request.episode_id.encode()
            request = request.SerializeToString()
        self.bus.producer().publish(REQUESTS, key, request)

    def results(self) -> list[common_pb2.StageResult]:
        return [common_pb2.StageResult.FromString(r.value) for r in self.bus.records(RESULTS)]

    def dead_letters(self) -> list[common_pb2.DeadLetter]:
        return [common_pb2.DeadLetter.FromString(r.value) for r in self.bus.records(DLQ)]

    def committed(self, key: bytes) -> int:
        return self.bus.committed(GROUP, REQUESTS, partition_for(key, self.bus.partitions))

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(f"dubset_{STAGE}_{name}", labels) or 0.0


def make_rig(
    tmp_path: Path,
    stage: FakeStage | None = None,
    *,
    bus: object = None,
    max_attempts: int = 3,
    backoff_s: float = 0.01,
    inproc: InProcBus | None = None,
    transient_retry_s: float = 600.0,
    ledger: bool = False,
    max_crashes: int = 3,
) -> Rig:
    inproc = inproc or InProcBus()
    store = RecordingStore(LocalStore(tmp_path / "store"))
    stage = stage or FakeStage()
    registry = CollectorRegistry()
    executor = StageExecutor(stage, store, StageMetrics.create(registry, STAGE))  # type: ignore[arg-type]
    worker = StageWorker(
        executor,
        bus or inproc,
        max_attempts=max_attempts,
        backoff_s=backoff_s,  # type: ignore[arg-type]
        poll_timeout_s=0.02,
        transient_retry_s=transient_retry_s,
        ledger=DeliveryLedger(store, STAGE) if ledger else None,  # type: ignore[arg-type]
        max_crashes=max_crashes,
    )
    return Rig(inproc, store, stage, registry, worker)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return make_rig(tmp_path)


def test_request_produces_outputs_result_and_commit(rig: Rig) -> None:
    request = make_request(rig.store, data=b"dub me", suffix="!")
    rig.store.puts.clear()
    with running(rig.worker):
        rig.send(request)
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK
    assert result.request_id == "req-1" and result.backend == BACKEND
    assert result.attempts == 1 and result.finished_unix_ms > 0
    prefix = f"stages/{STAGE}/{result.output_key}/"
    assert rig.store.puts[-1] == prefix + MANIFEST
    assert all(k.startswith(prefix) for k in rig.store.puts)
    for ref in [*result.outputs.values(), result.manifest]:
        assert ref.sha256 == sha256_hex(rig.store.get_bytes(rig.store.key_of(ref.uri)))
    assert rig.store.get_bytes(rig.store.key_of(result.outputs["out"].uri)) == b"DUB ME!"
    assert rig.bus.records(RESULTS)[0].key == b"ep-1"  # results stay in episode order
    assert rig.dead_letters() == []


def test_replayed_request_is_reused_without_new_work(rig: Rig) -> None:
    with running(rig.worker):
        rig.send(make_request(rig.store, request_id="r1"))
        wait_for(lambda: len(rig.results()) == 1)
        replay = make_request(rig.store, request_id="r2")  # same bytes, same params
        listing, puts = rig.store.list(""), len(rig.store.puts)
        rig.send(replay)
        wait_for(lambda: len(rig.results()) == 2)
        wait_for(lambda: rig.committed(b"ep-1") == 2)
    first, second = rig.results()
    assert rig.stage.calls == 1
    assert second.reused and not first.reused and second.request_id == "r2"
    assert dict(second.outputs) == dict(first.outputs) and second.manifest == first.manifest
    assert len(rig.store.puts) == puts and rig.store.list("") == listing
    assert rig.metric("requests_total", outcome="reused", backend=BACKEND) == 1


def test_transient_failure_is_retried_then_succeeds(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, FakeStage(transient=2), max_attempts=3)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK and result.attempts == 3
    assert rig.stage.calls == 3
    assert rig.metric("retries_total") == 2
    assert rig.dead_letters() == []


def test_an_outage_longer_than_max_attempts_is_waited_out(tmp_path: Path) -> None:
    # A dependency down for a while is not the request's fault: it does not use up attempts.
    rig = make_rig(tmp_path, FakeStage(transient=6), max_attempts=2)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 1, timeout_s=10)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK and result.attempts == 7
    assert rig.dead_letters() == []


def test_an_outage_past_the_transient_budget_fails_to_the_dlq(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, FakeStage(transient=10**6), transient_retry_s=0.2)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "UNAVAILABLE" and "store hiccup" in result.error_message
    assert "after" in result.error_message and "of retries" in result.error_message
    assert result.attempts == rig.stage.calls >= 2
    (letter,) = rig.dead_letters()
    assert letter.error_code == "UNAVAILABLE" and letter.attempts == result.attempts


def _ledger_key(request_id: str) -> str:
    return f"workers/{STAGE}/deliveries/{request_id}.json"


def test_a_request_workers_keep_dying_on_fails_as_crashed_without_running(
    tmp_path: Path,
) -> None:
    rig = make_rig(tmp_path, ledger=True, max_crashes=3)
    request = make_request(rig.store)
    # Three workers before this one took the request and died without finishing it.
    rig.store.put_bytes(_ledger_key(request.request_id), json.dumps({"deliveries": 3}).encode())
    with running(rig.worker):
        rig.send(request)
        rig.send(make_request(rig.store, episode_id="ep-2", request_id="req-2"))
        wait_for(lambda: rig.committed(b"ep-1") == 1 and len(rig.results()) == 2)
    by_id = {r.request_id: r for r in rig.results()}
    crashed = by_id[request.request_id]
    assert crashed.status == common_pb2.STAGE_STATUS_FAILED and crashed.error_code == "CRASHED"
    assert "stopped 3 times" in crashed.error_message and "not tried again" in crashed.error_message
    assert by_id["req-2"].status == common_pb2.STAGE_STATUS_OK
    assert rig.stage.calls == 1  # only ep-2 ran
    (letter,) = rig.dead_letters()
    assert letter.error_code == "CRASHED"
    assert rig.store.exists(_ledger_key(request.request_id))  # remembered as a killer
    assert not rig.store.exists(_ledger_key("req-2"))


def test_a_copy_of_a_request_that_crashed_fails_at_once_without_running(
    tmp_path: Path,
) -> None:
    """The jobs service re-sends a request after its own restart: the copy of a request that
    killed MAX_CRASHES workers must not kill more (nor make outputs for a failed job)."""
    rig = make_rig(tmp_path, ledger=True, max_crashes=3)
    request = make_request(rig.store)
    rig.store.put_bytes(_ledger_key(request.request_id), json.dumps({"deliveries": 3}).encode())
    with running(rig.worker):
        rig.send(request)
        rig.send(request)  # the copy
        wait_for(lambda: rig.committed(b"ep-1") == 2 and len(rig.results()) == 2)
    assert [r.error_code for r in rig.results()] == ["CRASHED", "CRASHED"]
    assert all("stopped 3 times" in r.error_message for r in rig.results())
    assert rig.stage.calls == 0
    assert len(rig.dead_letters()) == 1  # the copy is not a second letter


def test_a_delivery_is_recorded_before_the_work_and_forgotten_after_the_commit(
    tmp_path: Path,
) -> None:
    gate = threading.Event()
    rig = make_rig(tmp_path, FakeStage(block=gate), ledger=True)
    request = make_request(rig.store)
    rig.store.put_bytes(_ledger_key(request.request_id), json.dumps({"deliveries": 1}).encode())
    with running(rig.worker):
        rig.send(request)
        wait_for(lambda: rig.stage.calls == 1)
        # The work is running: a crash now would leave two unfinished deliveries.
        entry = json.loads(rig.store.get_bytes(_ledger_key(request.request_id)))
        assert entry == {"deliveries": 2}
        gate.set()
        wait_for(lambda: rig.committed(b"ep-1") == 1)
        wait_for(lambda: not rig.store.exists(_ledger_key(request.request_id)))
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK


def test_a_clean_stop_mid_retry_is_not_counted_as_a_crash(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, FakeStage(transient=99), backoff_s=5.0, ledger=True)
    request = make_request(rig.store)
    thread = threading.Thread(target=rig.worker.run, daemon=True)
    thread.start()
    rig.send(request)
    wait_for(lambda: rig.stage.calls == 1)
    rig.worker.stop.set()
    thread.join(3)
    assert not thread.is_alive() and rig.committed(b"ep-1") == 0
    assert not rig.store.exists(_ledger_key(request.request_id))


def test_max_crashes_zero_turns_the_guard_off(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, ledger=True, max_crashes=0)
    request = make_request(rig.store)
    rig.store.put_bytes(_ledger_key(request.request_id), json.dumps({"deliveries": 9}).encode())
    with running(rig.worker):
        rig.send(request)
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK


def test_permanent_failure_fails_once_and_does_not_block_the_next_episode(rig: Rig) -> None:
    rig.stage.invalid = True
    bad = make_request(rig.store, episode_id="ep-bad", request_id="r-bad")
    with running(rig.worker):
        rig.send(bad)
        wait_for(lambda: rig.committed(b"ep-bad") == 1)
        assert rig.stage.calls == 1  # not retried
        rig.stage.invalid = False
        rig.send(make_request(rig.store, episode_id="ep-good", request_id="r-good"))
        wait_for(lambda: rig.committed(b"ep-good") >= 1 and len(rig.results()) == 2)
    failed, ok = sorted(rig.results(), key=lambda r: r.request_id)
    assert failed.request_id == "r-bad" and failed.status == common_pb2.STAGE_STATUS_FAILED
    assert failed.error_code == "INVALID_INPUT"
    assert failed.error_message == "the source has no dialogue"
    assert (failed.job_id, failed.episode_id, failed.stage) == ("job-1", "ep-bad", STAGE)
    assert ok.request_id == "r-good" and ok.status == common_pb2.STAGE_STATUS_OK
    (letter,) = rig.dead_letters()
    assert letter.source_topic == REQUESTS and letter.key == b"ep-bad"
    assert letter.error_code == "INVALID_INPUT" and letter.attempts == 1
    assert common_pb2.StageRequest.FromString(letter.value) == bad  # the original bytes
    assert rig.bus.records(DLQ)[0].key == b"ep-bad"


def test_crash_is_retried_then_reported_as_internal(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, FakeStage(crash=True), max_attempts=2)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_FAILED and result.error_code == "INTERNAL"
    assert result.error_message == "RuntimeError: boom in the model"
    assert rig.stage.calls == 2 and len(rig.dead_letters()) == 1


@pytest.mark.parametrize("garbage", [b"\xff\xff\xff\xff", b"", b"\x08\x01", b"not a protobuf"])
def test_garbage_goes_to_the_dlq_and_the_worker_keeps_going(rig: Rig, garbage: bytes) -> None:
    with running(rig.worker):
        rig.send(garbage, key=b"ep-1")
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 2)
    (letter,) = rig.dead_letters()
    assert letter.value == garbage and letter.error_code == "INVALID_INPUT"
    assert letter.source_topic == REQUESTS and letter.offset == 0
    (result,) = rig.results()  # only the real request has a result
    assert result.status == common_pb2.STAGE_STATUS_OK


def test_input_with_wrong_sha256_fails_with_integrity(rig: Rig) -> None:
    request = make_request(rig.store, data=b"original")
    rig.store.put_bytes("inputs/src.txt", b"swapped after the request was made")
    with running(rig.worker):
        rig.send(request)
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_FAILED and result.error_code == "INTEGRITY"
    assert rig.stage.calls == 1 and rig.store.list("stages") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uri", "file:///etc/passwd"),
        ("uri", "s3://elsewhere/x"),
        ("job_id", "../../x"),
        ("episode_id", "a b"),
        ("episode_id", ""),
        ("job_id", ""),
    ],
)
def test_hostile_requests_fail_as_invalid_input(rig: Rig, field: str, value: str) -> None:
    request = make_request(rig.store)
    if field == "uri":
        request.inputs["src"].uri = value
    else:
        setattr(request, field, value)
    with running(rig.worker):
        rig.send(request, key=b"k")
        wait_for(lambda: rig.committed(b"k") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_FAILED
    assert result.error_code == "INVALID_INPUT" and result.attempts == 1
    assert rig.stage.calls == 0
    assert len(rig.dead_letters()) == 1
    assert rig.store.list("stages") == []


def test_commit_waits_for_a_result_that_fails_to_publish_once(tmp_path: Path) -> None:
    events = EventLog()
    inproc = InProcBus()
    bus = WrappedBus(inproc, events, fail_first=1)
    rig = make_rig(tmp_path, bus=bus, inproc=inproc)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    assert events.kinds() == ["publish-failed", "published", "commit"]
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK


def test_no_commit_when_the_result_cannot_be_published_before_stop(tmp_path: Path) -> None:
    events = EventLog()
    inproc = InProcBus()
    rig = make_rig(tmp_path, bus=WrappedBus(inproc, events, always_fail=True), inproc=inproc)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: events.kinds().count("publish-failed") >= 2)
    assert "commit" not in events.kinds()
    assert rig.committed(b"ep-1") == 0 and rig.results() == []
    # The broker is back: a new worker gets the record again, and the finished work is reused.
    again = StageWorker(rig.worker.executor, inproc, backoff_s=0.01, poll_timeout_s=0.02)
    with running(again):
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (result,) = rig.results()
    assert result.status == common_pb2.STAGE_STATUS_OK and result.reused
    assert rig.stage.calls == 1


def test_stop_during_retry_backoff_leaves_the_record_for_redelivery(tmp_path: Path) -> None:
    # Shutting down while a dependency is flaky must not turn the request into a failure.
    rig = make_rig(tmp_path, FakeStage(transient=99), max_attempts=5, backoff_s=5.0)
    thread = threading.Thread(target=rig.worker.run, daemon=True)
    thread.start()
    rig.send(make_request(rig.store))
    wait_for(lambda: rig.stage.calls == 1)
    rig.worker.stop.set()
    thread.join(3)
    assert not thread.is_alive()
    assert rig.stage.calls == 1
    assert rig.results() == [] and rig.dead_letters() == []
    assert rig.committed(b"ep-1") == 0


def test_work_in_flight_finishes_and_commits_on_stop(tmp_path: Path) -> None:
    gate = threading.Event()
    rig = make_rig(tmp_path, FakeStage(block=gate))
    with running(rig.worker):
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.stage.calls == 1)
        rig.worker.stop.set()
        gate.set()
    assert rig.committed(b"ep-1") == 1
    assert [r.status for r in rig.results()] == [common_pb2.STAGE_STATUS_OK]


def test_many_episodes_each_get_one_result(rig: Rig) -> None:
    with running(rig.worker):
        for i in range(12):
            rig.send(
                make_request(
                    rig.store,
                    data=f"ep {i}".encode(),
                    episode_id=f"ep-{i}",
                    request_id=f"r{i}",
                    input_key=f"inputs/{i}.txt",
                )
            )
        wait_for(lambda: len(rig.results()) == 12)
    assert sorted(r.request_id for r in rig.results()) == sorted(f"r{i}" for i in range(12))
    assert all(r.status == common_pb2.STAGE_STATUS_OK for r in rig.results())
    for i in range(12):
        assert rig.committed(f"ep-{i}".encode()) >= 1


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("fake"))
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(saved)


def test_log_lines_of_the_work_carry_the_request_context(rig: Rig, json_logs: io.StringIO) -> None:
    with running(rig.worker):
        rig.send(make_request(rig.store, job_id="job-7", episode_id="ep-7"))
        wait_for(lambda: rig.committed(b"ep-7") == 1)
    lines = [json.loads(x) for x in json_logs.getvalue().splitlines()]
    (work,) = [x for x in lines if x["message"] == "fake stage working"]
    assert (work.get("job_id"), work.get("episode_id"), work.get("stage")) == (
        "job-7",
        "ep-7",
        STAGE,
    )
    assert work.get("request_id") == "req-1"


def test_oversized_garbage_is_trimmed_so_its_dead_letter_fits_a_kafka_message(rig: Rig) -> None:
    huge = b"\xff" * (3 * 1024 * 1024)
    with running(rig.worker):
        rig.send(huge, key=b"ep-1")
        wait_for(lambda: rig.committed(b"ep-1") == 1)
    (raw,) = [r.value for r in rig.bus.records(DLQ)]
    assert len(raw) < 1024 * 1024
    letter = common_pb2.DeadLetter.FromString(raw)
    assert letter.value == huge[: len(letter.value)] and letter.offset == 0


class _CommitFails:
    """A consumer whose first commit fails the way a commit during a rebalance does."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def commit(self, record: object) -> None:
        if not self.failed:
            self.failed = True
            raise TransientError("rebalance in progress")
        self.inner.commit(record)  # type: ignore[attr-defined]


def test_a_failed_commit_leaves_the_record_and_the_worker_keeps_running(tmp_path: Path) -> None:
    inproc = InProcBus()

    class Bus:
        def __getattr__(self, name: str) -> object:
            return getattr(inproc, name)

        def consumer(self, topics_: list[str], group: str) -> object:
            return _CommitFails(inproc.consumer(topics_, group))

    rig = make_rig(tmp_path, bus=Bus(), inproc=inproc)
    first = make_request(rig.store, episode_id="ep-a", request_id="req-a")
    second = make_request(rig.store, episode_id="ep-b", request_id="req-b")
    with running(rig.worker) as thread:
        rig.send(first)
        rig.send(second)
        wait_for(lambda: len(rig.results()) == 2)
        assert thread.is_alive()
    assert {r.status for r in rig.results()} == {common_pb2.STAGE_STATUS_OK}


def test_progress_of_the_request_in_work_is_published_keyed_by_episode(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.worker = StageWorker(
        rig.worker.executor, rig.bus, poll_timeout_s=0.02, progress=True, topic_prefix=""
    )
    with running(rig.worker):
        rig.send(make_request(rig.store, request_id="req-p"))
        wait_for(lambda: len(rig.results()) == 1)
    (record,) = rig.bus.records(topics.progress())
    event = common_pb2.StageProgressEvent.FromString(record.value)
    assert record.key == b"ep-1"
    assert (event.request_id, event.job_id, event.episode_id) == ("req-p", "job-1", "ep-1")
    assert event.progress.fraction == pytest.approx(0.5)
    assert event.progress.message == "halfway" and event.progress.stage == STAGE
    (result,) = rig.results()
    assert 0 < result.started_unix_ms <= result.finished_unix_ms


def test_progress_is_throttled_and_needs_a_current_request() -> None:
    bus = InProcBus()
    publisher = ProgressPublisher(bus, STAGE, topics.progress(), min_interval_s=60, min_step=0.1)
    publisher.report(0.1, "no request in this context")
    assert bus.records(topics.progress()) == []
    request = common_pb2.StageRequest(request_id="r", job_id="j", episode_id="e")
    token = worker_module._CURRENT.set(request)
    try:
        for fraction in (0.0, 0.01, 0.05, 0.12, 0.13, 0.5, 1.0):
            publisher.report(fraction, "x")
    finally:
        worker_module._CURRENT.reset(token)
    fractions = [
        round(common_pb2.StageProgressEvent.FromString(r.value).progress.fraction, 2)
        for r in bus.records(topics.progress())
    ]
    assert fractions == [0.0, 0.12, 0.5, 1.0]  # a 10 % step or a second apart, not every tick


@pytest.mark.parametrize("error", [TransientError("down"), InvalidInputError("refused")])
def test_progress_the_broker_refuses_never_fails_the_work(error: Exception) -> None:
    class Refusing:
        def publish(self, *args: object) -> None:
            raise error

        def close(self) -> None: ...

    class Bus(InProcBus):
        def producer(self) -> Refusing:  # type: ignore[override]
            return Refusing()

    publisher = ProgressPublisher(Bus(), STAGE, topics.progress())
    token = worker_module._CURRENT.set(common_pb2.StageRequest(request_id="r", episode_id="e"))
    try:
        publisher.report(0.5, "half")  # must not raise
    finally:
        worker_module._CURRENT.reset(token)


def test_a_stage_raising_timeout_error_fails_instead_of_stalling_the_partition(
    tmp_path: Path,
) -> None:
    # TimeoutError (socket.timeout too) is concurrent.futures.TimeoutError in 3.11: the work's
    # own must not look like "still running" to the loop that waits for it.
    error = TimeoutError("read timed out")
    rig = make_rig(tmp_path, FakeStage(error=error), max_attempts=2)
    with running(rig.worker):
        rig.send(make_request(rig.store))
        rig.send(make_request(rig.store, episode_id="ep-2", request_id="req-2"))
        wait_for(lambda: len(rig.results()) == 2)
    assert rig.stage.calls == 4  # two attempts per request, then reported
    for result in rig.results():
        assert result.status == common_pb2.STAGE_STATUS_FAILED
        assert result.error_code == "INTERNAL" and type(error).__name__ in result.error_message
    assert rig.committed(b"ep-1") == 1 and rig.committed(b"ep-2") == 1


def test_a_result_the_broker_refuses_is_reported_as_a_failure_and_committed(
    tmp_path: Path,
) -> None:
    events = EventLog()
    inproc = InProcBus()

    def too_large(topic: str, value: bytes | None) -> bool:
        if topic != RESULTS or value is None:
            return False
        return common_pb2.StageResult.FromString(value).status == common_pb2.STAGE_STATUS_OK

    rig = make_rig(tmp_path, bus=WrappedBus(inproc, events, refuse=too_large), inproc=inproc)
    with running(rig.worker) as thread:
        rig.send(make_request(rig.store))
        rig.send(make_request(rig.store, episode_id="ep-2", request_id="req-2"))
        wait_for(lambda: rig.committed(b"ep-1") == 1 and rig.committed(b"ep-2") == 1)
        assert thread.is_alive()
    results = rig.results()
    assert sorted(r.request_id for r in results) == ["req-1", "req-2"]
    for result in results:
        assert result.status == common_pb2.STAGE_STATUS_FAILED
        assert result.error_code == "INVALID_INPUT"
        assert "cannot be published" in result.error_message
    assert len(rig.dead_letters()) == 2


def test_a_failure_the_broker_refuses_too_is_dropped_and_the_worker_goes_on(
    tmp_path: Path,
) -> None:
    events = EventLog()
    inproc = InProcBus()
    rig = make_rig(
        tmp_path, bus=WrappedBus(inproc, events, refuse=lambda t, _v: t != REQUESTS), inproc=inproc
    )
    with running(rig.worker) as thread:
        rig.send(make_request(rig.store))
        wait_for(lambda: rig.committed(b"ep-1") == 1)
        assert thread.is_alive()
    assert rig.results() == [] and "publish-refused" in events.kinds()
