"""A tiny stage for runner and worker tests, its request, and a store that records writes."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import wrappers_pb2

from dubset.v1 import common_pb2
from dubset_common.bus import InProcBus
from dubset_common.errors import InvalidInputError, TransientError
from dubset_common.objstore import LocalStore, ObjectInfo, ObjectStore
from dubset_common.runner import Output, StageContext, StageExecutor, StageOutcome
from dubset_common.worker import StageWorker

STAGE = "fake"
BACKEND = "fake-backend"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FakeParams:
    """FakeStage's params: the suffix appended to its output."""

    suffix: str


@dataclass(frozen=True)
class NoParams:
    """The params of a stage that takes none (they hash as {})."""


class FakeStage:
    """Upper-cases input `src` (+ a suffix param) into out.txt and writes meta.json from a file.

    Configurable to raise TransientError a number of times, InvalidInputError, or RuntimeError.
    """

    name = STAGE
    version = "1"
    inputs: tuple[str, ...] = ("src",)

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

    def parse_params(self, request: common_pb2.StageRequest) -> FakeParams:
        suffix = wrappers_pb2.StringValue()
        if request.HasField("params") and not request.params.Unpack(suffix):
            raise InvalidInputError("fake params must be a StringValue")
        return FakeParams(suffix.value)

    def run(self, ctx: StageContext[FakeParams]) -> StageOutcome:
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
        suffix = ctx.params.suffix.encode()
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
    store: ObjectStore | RecordingStore,
    *,
    data: bytes = b"hello",
    job_id: str = "job-1",
    episode_id: str = "ep-1",
    request_id: str = "req-1",
    suffix: str | None = None,
    input_key: str = "inputs/src.txt",
) -> common_pb2.StageRequest:
    """A request for FakeStage with `data` stored as its input `src`."""
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


@dataclass(frozen=True)
class Delivered:
    result: common_pb2.StageResult
    dead_letters: int


def deliver_once(executor: StageExecutor[Any], request: common_pb2.StageRequest) -> Delivered:
    """What a StageWorker on an in-process bus publishes for one delivery of request."""
    bus = InProcBus()
    worker = StageWorker(executor, bus, backoff_s=0.01)
    bus.producer().publish(worker.requests_topic, b"ep-1", request.SerializeToString())
    consumer = bus.consumer([worker.requests_topic], worker.group)
    for record in consumer.poll(0.1):
        worker.handle(record, consumer, bus.producer())
    (raw,) = [r.value for r in bus.records(worker.results_topic)]
    letters = len(bus.records(worker.dlq_topic))
    return Delivered(common_pb2.StageResult.FromString(raw), letters)
