"""The jobs service over the real broker and S3 server: gRPC submit/get/watch, a MinIO
bucket notification on the ingest topic, state rebuilt with read_topic (fake stage workers)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, jobs_pb2, jobs_pb2_grpc
from dubset_common import topics
from dubset_common.health import LoopHealth
from dubset_common.kafkabus import KafkaBus
from dubset_common.objstore import S3Store
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from dubset_jobs.server import start
from tests.unit.jobs.fakes import FakeWorkers, submission

OPTIONS = JobsOptions(stage_timeout_s=120, retry_backoff_s=0.2, tick_s=0.2, poll_timeout_s=0.2)


@pytest.fixture
def service(
    kafka_bus: KafkaBus, s3_store: S3Store, namespace: str
) -> Iterator[tuple[Orchestrator, jobs_pb2_grpc.JobServiceStub]]:
    prefix = f"{namespace}."
    health = LoopHealth(stall_s=60, startup_s=60)
    orch = Orchestrator(kafka_bus, s3_store, OPTIONS, CollectorRegistry(), prefix, health=health)
    orch.start()
    workers = FakeWorkers(kafka_bus, s3_store, prefix).start()
    running = start("127.0.0.1:0", orch, CollectorRegistry())
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield orch, jobs_pb2_grpc.JobServiceStub(channel)
    channel.close()
    running.drain(1)
    orch.stop()
    workers.close()


def test_grpc_submission_runs_to_success(
    service: tuple[Orchestrator, jobs_pb2_grpc.JobServiceStub], s3_store: S3Store
) -> None:
    orch, stub = service
    reply = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=submission(s3_store)))
    watched = list(stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=reply.job.job_id), timeout=180))
    assert watched[-1].state == jobs_pb2.JOB_STATE_SUCCEEDED, watched[-1].error_reason
    got = stub.GetJob(jobs_pb2.GetJobRequest(job_id=reply.job.job_id))
    assert got.outputs["episode"].uri.startswith(f"s3://{s3_store.bucket}/")
    # The compacted state topic read back (group-less) holds the final revision.
    states = [
        jobs_pb2.JobStatus.FromString(r.value) for r in orch.bus.read_topic(orch.states.topic)
    ]
    assert max(s.revision for s in states) == got.revision
    # Its ingest consumer holds a group session on the broker: /readyz would answer 200.
    assert orch.health is not None
    ready = orch.health.readiness()
    assert ready.ok and ready.session, ready.reason


def test_minio_notification_for_an_uploaded_manifest_starts_a_job(
    service: tuple[Orchestrator, jobs_pb2_grpc.JobServiceStub],
    s3_store: S3Store,
    kafka_bus: KafkaBus,
    namespace: str,
) -> None:
    orch, stub = service
    folder = "uploads/My Show"
    s3_store.put_bytes(f"{folder}/ep03_ja.mp4".replace(" ", "_"), b"ja video bytes")
    s3_store.put_bytes(f"{folder}/ep03_en.mp4".replace(" ", "_"), b"en video bytes")
    s3_store.put_bytes(
        "uploads/My_Show/show.json", json.dumps({"show": "My Show", "season": "1"}).encode()
    )
    manifest = {
        "format": "dubset-episode-manifest/1",
        "show_file": "show.json",
        "episode_number": 3,
        "ja": "ep03_ja.mp4",
        "en": "ep03_en.mp4",
        "options": {"dataset": "it"},
    }
    key = "uploads/My_Show/ep03.episode.json"
    s3_store.put_bytes(key, json.dumps(manifest).encode(), "application/json")
    full = f"{namespace}/{key}"
    event = {
        "EventName": "s3:ObjectCreated:Put",
        "Key": f"{s3_store.bucket}/{full}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventName": "s3:ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": s3_store.bucket},
                    "object": {"key": full.replace("/", "%2F"), "size": 200, "eTag": "x"},
                },
            }
        ],
    }
    kafka_bus.producer().publish(
        topics.ingest(f"{namespace}."), full.encode(), json.dumps(event).encode()
    )
    deadline = time.monotonic() + 120
    jobs: list[jobs_pb2.JobStatus] = []
    while time.monotonic() < deadline and not jobs:
        jobs = list(stub.ListJobs(jobs_pb2.ListJobsRequest()).jobs)
        time.sleep(0.5)
    (job,) = jobs
    assert job.episode_id.startswith("my-show-1-e03-")
    assert job.submission.options.dataset == "it"
    done = orch.wait(job.job_id, 180)
    assert done.state == jobs_pb2.JOB_STATE_SUCCEEDED, done.error_reason


def test_kafka_read_topic_reads_to_the_end_at_call_time(
    kafka_bus: KafkaBus, namespace: str
) -> None:
    topic = f"{namespace}.readtopic.v1"
    kafka_bus.ensure_topics([topic])
    assert kafka_bus.read_topic(f"{namespace}.missing.v1") == []
    producer = kafka_bus.producer()
    for i in range(5):
        producer.publish(topic, f"k{i}".encode(), f"v{i}".encode())
    records = kafka_bus.read_topic(topic)
    assert sorted(r.value for r in records) == [f"v{i}".encode() for i in range(5)]


def test_a_submission_message_on_the_ingest_topic_starts_a_job_and_garbage_is_dead_lettered(
    service: tuple[Orchestrator, jobs_pb2_grpc.JobServiceStub],
    s3_store: S3Store,
    kafka_bus: KafkaBus,
    namespace: str,
) -> None:
    orch, stub = service
    sub = submission(s3_store, n=5, show="Kafka Show")
    producer = kafka_bus.producer()
    ingest = topics.ingest(f"{namespace}.")
    producer.publish(ingest, b"garbage", b"\x00\x01 not a submission")
    producer.publish(ingest, b"kafka-show", sub.SerializeToString())
    deadline = time.monotonic() + 120
    jobs: list[jobs_pb2.JobStatus] = []
    while time.monotonic() < deadline and not jobs:
        jobs = list(stub.ListJobs(jobs_pb2.ListJobsRequest()).jobs)
        time.sleep(0.5)
    (job,) = jobs
    assert job.submission.show.show == "Kafka Show"
    assert orch.wait(job.job_id, 180).state == jobs_pb2.JOB_STATE_SUCCEEDED
    letters = [
        common_pb2.DeadLetter.FromString(r.value)
        for r in kafka_bus.read_topic(topics.dlq("ingest", f"{namespace}."))
    ]
    assert [bytes(d.key) for d in letters] == [b"garbage"]
    assert letters[0].error_message
