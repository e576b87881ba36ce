"""Test doubles for the dubset_common runner and worker: a tiny stage, recording wrappers."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from google.protobuf import wrappers_pb2

from dubset.v1 import common_pb2
from dubset_common.bus import InProcBus, Record
from dubset_common.errors import InvalidInputError, TransientError
from dubset_common.objstore import LocalStore, ObjectInfo
from dubset_common.runner import Output, StageContext, StageOutcome

# (topic, value) -> True when the broker can never take that message (too large).
Refuse = Callable[[str, bytes | None], bool]

STAGE = "fake"
BACKEND = "fake-backend"
log = logging.getLogger("tests.fake_stage")


class FakeStage:
    """Upper-cases input `src` (+ a suffix param) into out.txt and writes meta.json from a file.

    Configurable to raise TransientError a number of times, InvalidInputError, or RuntimeError.
    """

    name = STAGE
    version = "1"
    inputs = ("src",)

    def __init__(
        self,
        *,
        transient: int = 0,
        invalid: bool = False,
        crash: bool = False,
        block: threading.Event | None = None,
        error: Exception | None = None,
    ) -> None:
        self.calls = 0
        self.error = error
        self.transient_left = transient
        self.invalid = invalid
        self.crash = crash
        self.block = block
        self.lock = threading.Lock()

    def parse_params(self, request: common_pb2.StageRequest) -> dict[str, object]:
        suffix = wrappers_pb2.StringValue()
        if request.HasField("params") and not request.params.Unpack(suffix):
            raise InvalidInputError("fake params must be a StringValue")
        return {"suffix": suffix.value}

    def run(self, ctx: StageContext) -> StageOutcome:
        with self.lock:
            self.calls += 1
            transient = self.transient_left > 0
            if transient:
                self.transient_left -= 1
        log.info("fake stage working")
        if self.block is not None:
            self.block.wait(10)
        if transient:
            raise TransientError("store hiccup")
        if self.invalid:
            raise InvalidInputError("the source has no dialogue")
        if self.crash:
            raise RuntimeError("boom in the model")
        if self.error is not None:
            raise self.error
        data = ctx.read_input("src")
        ctx.hook(0.5, "halfway")
        suffix = str(ctx.params["suffix"]).encode()
        meta = ctx.workdir / "meta.json"
        meta.write_bytes(json.dumps({"len": len(data)}).encode())
        return StageOutcome(
            outputs=(
                Output("out", "out.txt", "text/plain", data=data.upper() + suffix),
                Output("meta", "meta.json", "application/json", path=meta),
            ),
            backend=BACKEND,
            info={"length": len(data)},
        )


class RecordingStore:
    """A LocalStore that records the order of writes."""

    def __init__(self, inner: LocalStore) -> None:
        self.inner = inner
        self.puts: list[str] = []

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        self.puts.append(key)
        return self.inner.put_bytes(key, data, content_type)

    def put_file(
        self, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        self.puts.append(key)
        return self.inner.put_file(key, path, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def make_request(
    store: Any,
    *,
    data: bytes = b"hello",
    job_id: str = "job-1",
    episode_id: str = "ep-1",
    request_id: str = "req-1",
    suffix: str | None = None,
    input_key: str = "inputs/src.txt",
) -> common_pb2.StageRequest:
    info = store.put_bytes(input_key, data)
    request = common_pb2.StageRequest(
        request_id=request_id,
        job_id=job_id,
        episode_id=episode_id,
        stage=STAGE,
        submitted_unix_ms=int(time.time() * 1000),
    )
    request.inputs["src"].CopyFrom(common_pb2.MediaRef(uri=info.uri, sha256=info.sha256))
    if suffix is not None:
        request.params.Pack(wrappers_pb2.StringValue(value=suffix))
    return request


class EventLog:
    """A shared, ordered log of what the wrappers saw."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, kind: str, detail: str) -> None:
        with self.lock:
            self.events.append((kind, detail))

    def kinds(self) -> list[str]:
        with self.lock:
            return [k for k, _ in self.events]


class FlakyProducer:
    """Fails the first `fail_first` publishes (or all of them) with TransientError, and the
    messages `refuse` picks with InvalidInputError (as KafkaBus does for a too large one)."""

    def __init__(
        self,
        inner: Any,
        events: EventLog,
        fail_first: int = 0,
        always: bool = False,
        refuse: Refuse | None = None,
    ) -> None:
        self.inner = inner
        self.events = events
        self.fail_left = fail_first
        self.always = always
        self.refuse = refuse

    def publish(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: tuple[tuple[str, bytes], ...] = (),
    ) -> None:
        if self.refuse is not None and self.refuse(topic, value):
            self.events.add("publish-refused", topic)
            raise InvalidInputError(f"message too large for {topic}")
        if self.always or self.fail_left > 0:
            self.fail_left -= 1
            self.events.add("publish-failed", topic)
            raise TransientError("broker not available")
        self.inner.publish(topic, key, value, headers)
        self.events.add("published", topic)

    def close(self) -> None:
        self.inner.close()


class RecordingConsumer:
    def __init__(self, inner: Any, events: EventLog) -> None:
        self.inner = inner
        self.events = events

    def poll(self, timeout_s: float, max_records: int = 1) -> list[Record]:
        return self.inner.poll(timeout_s, max_records)  # type: ignore[no-any-return]

    def commit(self, record: Record) -> None:
        self.events.add("commit", f"{record.topic}@{record.offset}")
        self.inner.commit(record)

    def keepalive(self) -> None:
        self.inner.keepalive()

    def has_session(self) -> bool:
        return bool(self.inner.has_session())

    def close(self) -> None:
        self.inner.close()


class WrappedBus:
    """An InProcBus whose producer and consumer are wrapped to record or inject failures."""

    def __init__(
        self,
        inner: InProcBus,
        events: EventLog,
        *,
        fail_first: int = 0,
        always_fail: bool = False,
        refuse: Refuse | None = None,
    ) -> None:
        self.inner = inner
        self.events = events
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.refuse = refuse

    def producer(self) -> FlakyProducer:
        return FlakyProducer(
            self.inner.producer(), self.events, self.fail_first, self.always_fail, self.refuse
        )

    def consumer(self, topics: list[str], group: str) -> RecordingConsumer:
        return RecordingConsumer(self.inner.consumer(topics, group), self.events)

    def ensure_topics(self, topics: list[str], compacted: bool = False) -> None:
        self.inner.ensure_topics(topics, compacted)


def wait_for(check: Callable[[], object], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(0.005)


@contextlib.contextmanager
def running(worker: Any, join_s: float = 5.0) -> Iterator[threading.Thread]:
    """Run worker.run() in a thread; stop it and require it to exit on leaving the block."""
    thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop.set()
        thread.join(join_s)
    assert not thread.is_alive(), "worker did not stop"
