"""JobService through a real gRPC server on 127.0.0.1:0 over the in-process orchestrator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import jobs_pb2, jobs_pb2_grpc
from dubset_common.bus import InProcBus
from dubset_common.objstore import LocalStore
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from dubset_jobs.server import start
from tests.unit.jobs.fakes import FakeWorkers, submission

OPTIONS = JobsOptions(retry_backoff_s=0.05, tick_s=0.05, poll_timeout_s=0.05)


@pytest.fixture
def rig(
    tmp_path: Path,
) -> Iterator[tuple[jobs_pb2_grpc.JobServiceStub, LocalStore, CollectorRegistry]]:
    bus, store, registry = InProcBus(2), LocalStore(tmp_path), CollectorRegistry()
    workers = FakeWorkers(bus, store).start()
    orch = Orchestrator(bus, store, OPTIONS, registry)
    orch.start()
    running = start("127.0.0.1:0", orch, registry)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield jobs_pb2_grpc.JobServiceStub(channel), store, registry
    channel.close()
    running.drain(1)
    orch.stop()
    workers.close()


def test_submit_watch_get_list_over_grpc(rig: tuple) -> None:
    stub, store, registry = rig
    reply = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=submission(store)))
    assert not reply.existing
    states = [s.state for s in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=reply.job.job_id))]
    assert states[-1] == jobs_pb2.JOB_STATE_SUCCEEDED
    got = stub.GetJob(jobs_pb2.GetJobRequest(job_id=reply.job.job_id))
    assert got.revision >= reply.job.revision and "episode" in got.outputs
    listed = stub.ListJobs(jobs_pb2.ListJobsRequest(page_size=10))
    assert [j.job_id for j in listed.jobs] == [reply.job.job_id]
    again = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=submission(store)))
    assert again.existing
    assert registry.get_sample_value("dubset_jobs_submitted_total", {"source": "grpc"}) == 1
    assert registry.get_sample_value("dubset_jobs_finished_total", {"state": "SUCCEEDED"}) == 1
    assert registry.get_sample_value("dubset_jobs_active") == 0


def test_errors_map_to_grpc_codes(rig: tuple) -> None:
    stub, store, _ = rig
    with pytest.raises(grpc.RpcError) as exc:
        stub.GetJob(jobs_pb2.GetJobRequest(job_id="nope"))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND
    sub = submission(store)
    sub.episode_id = "../../x"
    with pytest.raises(grpc.RpcError) as exc:
        stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=sub))
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "episode id" in (exc.value.details() or "")
    sub = submission(store)
    sub.ja_media.uri = store.uri("in/missing.mp4")
    with pytest.raises(grpc.RpcError) as exc:
        stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=sub))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND
    assert "the JA video" in (exc.value.details() or "")
    with pytest.raises(grpc.RpcError) as exc:
        list(stub.WatchJob(jobs_pb2.WatchJobRequest(job_id="nope")))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


def test_watches_are_capped_and_a_watch_ends_when_its_client_goes_away(tmp_path: Path) -> None:
    bus, store, registry = InProcBus(2), LocalStore(tmp_path), CollectorRegistry()
    workers = FakeWorkers(bus, store, hold={"media"}).start()
    orch = Orchestrator(bus, store, OPTIONS, registry)
    orch.start()
    running = start("127.0.0.1:0", orch, registry, max_watches=1)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        stub = jobs_pb2_grpc.JobServiceStub(channel)
        job = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=submission(store))).job
        request = jobs_pb2.WatchJobRequest(job_id=job.job_id)
        first = stub.WatchJob(request)
        assert next(first).job_id == job.job_id  # holds the only watch: the job is held
        with pytest.raises(grpc.RpcError) as exc:
            next(stub.WatchJob(request))
        assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "1 watches are open" in (exc.value.details() or "")
        assert stub.GetJob(jobs_pb2.GetJobRequest(job_id=job.job_id)).job_id == job.job_id
        first.cancel()  # the client goes away: its watch ends and frees the slot
        for _ in range(100):
            try:
                again = stub.WatchJob(request)
                assert next(again).job_id == job.job_id
                again.cancel()
                break
            except grpc.RpcError as err:
                assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                threading.Event().wait(0.05)
        else:
            raise AssertionError("the cancelled watch never gave its slot back")
    finally:
        channel.close()
        running.drain(1)
        orch.stop()
        workers.close()
