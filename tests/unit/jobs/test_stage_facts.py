"""The media stage's offset reaches the job from its result's facts, with no store read; only a
result without facts (work done before they existed) sends the orchestrator to its manifest."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, jobs_pb2, separation_pb2
from dubset_common.bus import InProcBus
from dubset_common.objstore import LocalStore
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from tests.unit.jobs.fakes import FakeWorkers, submission

OPTIONS = JobsOptions(
    stage_timeout_s=30, max_tries=2, retry_backoff_s=0.05, tick_s=0.05, poll_timeout_s=0.05
)


class ManifestReads(LocalStore):
    """The orchestrator's view of the store: records each stage manifest it reads, and refuses
    them when strict."""

    def __init__(self, root: Path, *, strict: bool) -> None:
        super().__init__(root)
        self.strict = strict
        self.reads: list[str] = []

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        if key.endswith("/_manifest.json"):
            self.reads.append(key)
            if self.strict:
                raise AssertionError(f"the orchestrator read {key}")
        return super().get_bytes(key, max_bytes)


def _run(
    bus: InProcBus, store: LocalStore, view: ManifestReads, facts: common_pb2.StageFacts | None
) -> tuple[jobs_pb2.JobStatus, FakeWorkers]:
    workers = FakeWorkers(bus, store, media_facts=facts).start()
    orch = Orchestrator(bus, view, OPTIONS, CollectorRegistry())
    orch.start()
    try:
        job_id = orch.submit(submission(store))[0].job_id
        return orch.wait(job_id, 20), workers
    finally:
        orch.stop()
        workers.close()


def test_the_offset_comes_from_the_result_s_facts_without_a_store_read(
    bus: InProcBus, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    view = ManifestReads(root, strict=True)
    facts = common_pb2.StageFacts(ja_offset_ms=-700, offset_confidence=0.5)
    done, workers = _run(bus, LocalStore(root), view, facts)
    assert done.state == jobs_pb2.JOB_STATE_SUCCEEDED, done.error_reason
    assert done.ja_offset_known and done.ja_offset_ms == -700  # not the manifest's 1500
    sep = next(r for r in workers.requests if r.stage == "separation")
    params = separation_pb2.SeparationParams()
    assert sep.params.Unpack(params) and params.ja_offset_ms == -700
    assert view.reads == []


def test_a_result_without_facts_falls_back_to_the_media_manifest(
    bus: InProcBus, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    view = ManifestReads(root, strict=False)
    done, _ = _run(bus, LocalStore(root), view, None)
    assert done.state == jobs_pb2.JOB_STATE_SUCCEEDED, done.error_reason
    assert done.ja_offset_known and done.ja_offset_ms == 1500
    assert len(view.reads) == 1 and view.reads[0].startswith("fake/media/")


def test_facts_without_the_offset_fail_the_job_without_a_store_read(
    bus: InProcBus, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    view = ManifestReads(root, strict=True)
    done, _ = _run(bus, LocalStore(root), view, common_pb2.StageFacts(offset_confidence=0.5))
    assert done.state == jobs_pb2.JOB_STATE_FAILED
    assert done.error_stage == "media" and "ja_offset_ms" in done.error_reason
    assert view.reads == []
