"""Generated episodes, the embedded run, and every service as a process over `make up`'s servers."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from dubset.v1 import jobs_pb2, jobs_pb2_grpc
from dubset_cli.main import main as dubset
from dubset_common.objstore import S3Store, make_s3_client
from dubset_sample.generate import SampleOptions, generate
from dubset_sample.subs import english_on_ja

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import infra  # noqa: E402

import services  # noqa: E402

SECONDS = 30.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class Episode:
    name: str
    dir: Path
    seed: int
    number: int
    shapes: tuple[str, ...] = ()  # dubset sample --shape: how the release comes

    @property
    def files(self) -> list[str]:
        """The `dubset run` / `dubset submit` arguments naming the release (and its English
        subtitle file, Actor names and all, when it comes with one)."""
        subs = ["--en-subs", str(self.en_subs)] if "subs" in self.shapes else []
        if "dual-mkv" in self.shapes:
            return ["--episode", str(self.dir / "episode.mkv"), *subs]
        return ["--ja", str(self.ja), "--en", str(self.en), *subs]

    @property
    def en_subs(self) -> Path:
        return self.dir / "en.ass"

    @property
    def ja(self) -> Path:
        return self.dir / "ja.mp4"

    @property
    def en(self) -> Path:
        return self.dir / "en.mp4"

    @property
    def show(self) -> Path:
        return self.dir / "show.json"

    @property
    def truth(self) -> Path:
        """The truth of the files `files` names (the MKV's own when it is one)."""
        mkv = self.dir / "episode.truth.json"
        return mkv if "dual-mkv" in self.shapes else self.dir / "truth.json"


# Two episodes of one show, one of another, one announced by a bucket notification. a2 comes as
# one dual-audio MKV (a 5.1 English track and a commentary), b1's dub as an edited 5.1 release
# (a 3 s card inserted mid-episode), c1's as a PAL master sped up with pitch correction and an
# English ASS subtitle file as its transcript: real releases' shapes through every service.
PLAN: dict[str, tuple[int, int, int, tuple[str, ...]]] = {
    "a1": (11, 1, 1500, ()),
    "a2": (11, 2, 1500, ("dual-mkv", "surround")),
    "b1": (12, 1, -800, ("card", "surround")),
    "c1": (13, 1, 0, ("pal", "subs")),
}


@pytest.fixture(scope="session")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Episode]:
    root = tmp_path_factory.mktemp("episodes")
    out = {}
    for name, (seed, number, offset, shapes) in PLAN.items():
        folder = root / name
        generate(
            SampleOptions(
                out=folder,
                seconds=SECONDS,
                characters=3,
                seed=seed,
                episode=number,
                ja_offset_ms=offset,
                shapes=shapes,
            )
        )
        out[name] = Episode(name, folder, seed, number, shapes)
    return out


@pytest.fixture(scope="session")
def embedded_a1(episodes: dict[str, Episode], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dubset run` of episode a1; returns its output directory."""
    ep = episodes["a1"]
    out = tmp_path_factory.mktemp("embedded")
    umask = os.umask(0o022)  # the usual umask, whatever the test runner's
    try:
        files = ["--ja", str(ep.ja), "--en", str(ep.en), "--show", str(ep.show)]
        code = dubset(["run", *files, "--out", str(out)])
    finally:
        os.umask(umask)
    assert code == 0
    return out


def subtitles_at_ja_times(ep: Episode) -> Path:
    """Official-style English subtitles of the episode's JA video (dubset_sample.subs)."""
    path = ep.dir / "dub.en.ass"
    path.write_text(english_on_ja(json.loads((ep.dir / "truth.json").read_text())))
    return path


@pytest.fixture(scope="session")
def embedded_dub_a1(episodes: dict[str, Episode], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dubset dub` of a1's Japanese video with subtitles at its lines; the dubbed MKV."""
    ep = episodes["a1"]
    out = tmp_path_factory.mktemp("dub") / "a1.dubbed.mkv"
    subs = subtitles_at_ja_times(ep)
    assert dubset(["dub", "--video", str(ep.ja), "--en-subs", str(subs), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def infra_env() -> dict[str, str]:
    return infra.ensure_up(Path(os.environ.get("DUBSET_RUN_DIR", ROOT / ".run")))


@dataclass
class Cluster:
    """Every dubset service as a process on a private topic/key namespace."""

    run_dir: Path
    namespace: str
    infra: dict[str, str]
    env: dict[str, str]
    addrs: dict[str, dict[str, str]]

    @property
    def jobs_addr(self) -> str:
        return self.addrs["jobs-server"]["grpc"]

    def stub(self) -> tuple[grpc.Channel, jobs_pb2_grpc.JobServiceStub]:
        channel = grpc.insecure_channel(self.jobs_addr)
        return channel, jobs_pb2_grpc.JobServiceStub(channel)

    def store(self) -> S3Store:
        client = make_s3_client(
            self.infra["DUBSET_S3_ENDPOINT"],
            self.infra["DUBSET_S3_REGION"],
            self.infra["DUBSET_S3_ACCESS_KEY"],
            self.infra["DUBSET_S3_SECRET_KEY"],
        )
        return S3Store(client, self.infra["DUBSET_S3_BUCKET"], self.namespace)

    def pid(self, name: str) -> int:
        pid = infra.read_pid(self.run_dir, name)
        assert pid is not None, f"{name} is not running"
        return pid

    def restart_missing(self) -> None:
        self.addrs |= services.up(self.run_dir, self.infra, self.env)

    def wait(self, job_id: str, timeout_s: float = 600.0) -> jobs_pb2.JobStatus:
        """The job once it is terminal."""
        channel, stub = self.stub()
        deadline = time.monotonic() + timeout_s
        with channel:
            while time.monotonic() < deadline:
                job = stub.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=10)
                if job.state in (
                    jobs_pb2.JOB_STATE_SUCCEEDED,
                    jobs_pb2.JOB_STATE_FAILED,
                    jobs_pb2.JOB_STATE_CANCELLED,
                ):
                    return job
                time.sleep(0.5)
        raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def service_env(namespace: str, **extra: str) -> dict[str, str]:
    """What the e2e services are given: topics and keys of their own namespace, quick consumer
    rebalances (a killed worker's partitions move in seconds) and quick retries."""
    return {
        "DUBSET_TOPIC_PREFIX": f"{namespace}.",
        "DUBSET_S3_PREFIX": namespace,
        "DUBSET_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "DUBSET_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        "DUBSET_KAFKA_PARTITIONS": "2",
        "DUBSET_RETRY_BACKOFF_S": "0.5",
        "DUBSET_LOG_LEVEL": "INFO",
        **extra,
    }


def download(cluster: Cluster, prefix: str, dest: Path) -> Path:
    """Every object under prefix/ into dest (the prefix stripped)."""
    store = cluster.store()
    for key in store.list(prefix + "/"):
        target = dest / key[len(prefix) + 1 :]
        target.parent.mkdir(parents=True, exist_ok=True)
        store.get_file(key, target)
    return dest


@pytest.fixture(scope="module")
def cluster(
    infra_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    namespace = f"e2e{uuid.uuid4().hex[:8]}"
    run_dir = tmp_path_factory.mktemp("services")
    env = service_env(namespace)
    try:
        addrs = services.up(run_dir, infra_env, env)
        yield Cluster(run_dir, namespace, infra_env, env, addrs)
    finally:
        services.down(run_dir)
        for log in sorted((run_dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()
            errors = [ln for ln in text if '"ERROR"' in ln or "Traceback" in ln]
            if errors:
                print(f"--- {log.name}: {len(errors)} error lines, last: {errors[-1][:300]}")


def minio_event(bucket: str, object_key: str, size: int, etag: str) -> dict[str, object]:
    """MinIO's s3:ObjectCreated:Put notification of bucket/object_key, as it sends it to Kafka."""
    return {
        "EventName": "s3:ObjectCreated:Put",
        "Key": f"{bucket}/{object_key}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "awsRegion": "",
                "eventTime": "2026-11-21T12:00:00.000Z",
                "eventName": "s3:ObjectCreated:Put",
                "userIdentity": {"principalId": "dubset"},
                "requestParameters": {"principalId": "dubset", "region": "", "sourceIPAddress": ""},
                "responseElements": {"x-amz-request-id": "1", "x-minio-origin-endpoint": ""},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "dubset-ingest-dubset",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "dubset"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": urllib.parse.quote(object_key),
                        "size": size,
                        "eTag": etag,
                        "contentType": "application/json",
                        "sequencer": "1",
                    },
                },
                "source": {"host": "127.0.0.1", "port": "", "userAgent": "MinIO"},
            }
        ],
    }


def where_secrets_are(cluster: Cluster, min_jobs: int) -> list[str]:
    """The service logs and job statuses of the cluster that hold an S3 key (none, we hope);
    fails when there is too little to check (short keys, missing logs, fewer jobs)."""
    secrets = [cluster.infra["DUBSET_S3_SECRET_KEY"], cluster.infra["DUBSET_S3_ACCESS_KEY"]]
    assert all(len(s) >= 16 for s in secrets), "keys too short to grep for meaningfully"
    logs = sorted((cluster.run_dir / "logs").glob("*.log"))
    assert len(logs) >= 10, [p.name for p in logs]
    found = []
    for log in logs:
        text = log.read_text(errors="replace")
        assert text, f"{log.name} is empty: nothing was checked"
        found += [log.name for secret in secrets if secret in text]
    channel, stub = cluster.stub()
    with channel:
        listed = stub.ListJobs(jobs_pb2.ListJobsRequest(page_size=500), timeout=30)
    assert len(listed.jobs) >= min_jobs, len(listed.jobs)
    found += [j.job_id for j in listed.jobs for secret in secrets if secret in str(j)]
    return found
