"""Fake stage workers for orchestrator tests: threads answering StageRequests with
StageResults whose outputs are small files in the store (a double for the stage services)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dubset.v1 import common_pb2, jobs_pb2
from dubset_common import topics
from dubset_common.bus import Bus, Consumer, Producer
from dubset_common.keys import canonical_json, join_key
from dubset_common.objstore import ObjectStore
from dubset_jobs.core import dag

# (request) -> None to answer OK, or (error_code, message) to fail it.
Failer = Callable[[common_pb2.StageRequest], tuple[str, str] | None]


@dataclass
class FakeWorkers:
    bus: Bus
    store: ObjectStore
    prefix: str = ""
    fail: Failer = lambda _r: None
    hold: set[str] = field(default_factory=set)  # stage nouns to hold until released
    # What the media stage reports on its result (None: no facts, as before they existed); its
    # manifest's info always says 1500.
    media_facts: common_pb2.StageFacts | None = field(
        default_factory=lambda: common_pb2.StageFacts(ja_offset_ms=1500, offset_confidence=0.9)
    )
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[common_pb2.StageRequest] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> FakeWorkers:
        for stage in dag.STAGES:
            t = threading.Thread(target=self._run, args=(stage,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def close(self) -> None:
        self.stop.set()
        self.release.set()
        for t in self.threads:
            t.join(5)

    def _run(self, stage: str) -> None:
        consumer = self.bus.consumer(
            [topics.requests(stage, self.prefix)], f"{self.prefix}fake-{stage}"
        )
        producer = self.bus.producer()
        try:
            self._serve(stage, consumer, producer)
        finally:
            consumer.close()
            producer.close()

    def _serve(self, stage: str, consumer: Consumer, producer: Producer) -> None:
        while not self.stop.is_set():
            for record in consumer.poll(0.05, max_records=10):
                request = common_pb2.StageRequest.FromString(record.value)
                self.requests.append(request)
                if stage in self.hold:
                    self.release.wait(30)
                progress = common_pb2.StageProgressEvent(
                    job_id=request.job_id,
                    episode_id=request.episode_id,
                    request_id=request.request_id,
                    progress=common_pb2.StageProgress(stage=stage, fraction=0.5, message="half"),
                )
                producer.publish(
                    topics.progress(self.prefix), record.key, progress.SerializeToString()
                )
                time.sleep(0.01)
                result = self.answer(stage, request)
                producer.publish(
                    topics.results(stage, self.prefix), record.key, result.SerializeToString()
                )
                consumer.commit(record)

    def answer(self, stage: str, request: common_pb2.StageRequest) -> common_pb2.StageResult:
        result = common_pb2.StageResult(
            request_id=request.request_id,
            job_id=request.job_id,
            episode_id=request.episode_id,
            stage=stage,
            backend=f"fake-{stage}",
            started_unix_ms=int(time.time() * 1000),
            finished_unix_ms=int(time.time() * 1000),
        )
        failure = self.fail(request)
        if failure is not None:
            result.status = common_pb2.STAGE_STATUS_FAILED
            result.error_code, result.error_message = failure
            return result
        result.status = common_pb2.STAGE_STATUS_OK
        base = join_key("fake", stage, request.job_id)
        names = {t.stage: t.produces for t in dag.TASKS}[stage]
        for name in names:
            info = self.store.put_bytes(
                join_key(base, name), f"{name} of {request.request_id}".encode()
            )
            result.outputs[name].CopyFrom(
                common_pb2.MediaRef(uri=info.uri, sha256=info.sha256, size_bytes=info.size_bytes)
            )
        manifest = canonical_json({"backend": result.backend, "info": {"ja_offset_ms": 1500}})
        info = self.store.put_bytes(join_key(base, "_manifest.json"), manifest)
        result.manifest.CopyFrom(common_pb2.MediaRef(uri=info.uri, sha256=info.sha256))
        if stage == "media" and self.media_facts is not None:
            result.facts.CopyFrom(self.media_facts)
        if stage == "packaging":
            doc = json.loads(self.store.get_bytes(self.store.key_of(request.inputs["episode"].uri)))
            assert doc["format"] == "dubset-episode/1"
        return result


def submission(
    store: ObjectStore, n: int = 1, show: str = "Test Show"
) -> jobs_pb2.EpisodeSubmission:
    ja = store.put_bytes(f"in/{n}/ja.mp4", f"ja video {n}".encode())
    en = store.put_bytes(f"in/{n}/en.mp4", f"en video {n}".encode())
    sub = jobs_pb2.EpisodeSubmission(episode_number=n)
    sub.show.show = show
    sub.show.season = "1"
    sub.ja_media.uri = ja.uri
    sub.en_media.uri = en.uri
    return sub
