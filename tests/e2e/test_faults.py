"""Faults during one batch: workers killed at random moments, the broker restarted, the object
store down for 30 s, and an episode whose packaging kills its worker every time.

The batch runs on a private broker and S3 server with durable storage (the broker keeps its
log in the S3 server), so the test can stop and restart them without disturbing any other
test. The four good episodes' dataset must come out byte-identical to the embedded run of the
same episodes; the poisoned one must fail alone, sit in the DLQ, show in `dubset jobs`, and
succeed on `dubset retry` once its worker is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dubset.v1 import common_pb2, jobs_pb2
from dubset_cli.pipeline import embedded
from dubset_cli.upload import read_show, submission, upload
from dubset_common import topics
from dubset_common.errors import DubsetError
from dubset_common.kafkabus import KafkaBus, KafkaOptions
from dubset_common.objstore import ObjectStore
from dubset_packaging.exporter import ExportOptions, export_dataset
from dubset_sample.generate import SampleOptions, generate
from tests.e2e.conftest import (
    Cluster,
    Episode,
    download,
    infra,
    service_env,
    services,
    where_secrets_are,
)

pytestmark = pytest.mark.timeout(2400)

DUBSET = [sys.executable, "-m", "dubset_cli.main"]
DATASET = "faults"
SECONDS = 10.0
# Two shows of two episodes each, and the poisoned episode (its own show and dataset).
BATCH = [(f"s{31 + i // 2}e{1 + i % 2}", 31 + i // 2, 1 + i % 2) for i in range(4)]
VICTIM = ("victim", 40, 1)
VICTIM_SECONDS = 12.0
# Random kills spare the packaging worker: the victim's packaging is killed on purpose, and a
# good episode's packaging killed max-crashes times by chance would fail it (by design).
RANDOM_VICTIMS = (
    "media-worker",
    "separation-worker",
    "asr-worker",
    "diarization-worker",
    "alignment-worker",
    "tts-worker",
    "jobs-server",
)
MAX_CRASHES = 3
# A worker is killed at random at most once in this long: a good episode's request cannot be
# hit MAX_CRASHES times in a row by chance (and fail CRASHED, as it would by design).
COOLDOWN_S = 45.0
# Random kills stop after this many: each one costs a worker restart and a redelivery, so
# unbounded kills would make the batch ever longer without testing anything new.
MAX_RANDOM_KILLS = 12
TERMINAL = (jobs_pb2.JOB_STATE_SUCCEEDED, jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_CANCELLED)


@dataclass
class Chaos:
    """What the test did to the cluster, and what came out."""

    jobs: dict[str, str] = field(default_factory=dict)
    final: dict[str, jobs_pb2.JobStatus] = field(default_factory=dict)
    kills: list[tuple[float, str]] = field(default_factory=list)
    victim_kills: int = 0
    outages: list[tuple[float, str, float]] = field(default_factory=list)  # at, what, seconds
    restart_failures: list[str] = field(default_factory=list)
    letters: list[common_pb2.DeadLetter] = field(default_factory=list)
    jobs_listing: str = ""
    retried: jobs_pb2.JobStatus | None = None
    dataset_dir: Path | None = None


def _generate(root: Path, name: str, seed: int, number: int, seconds: float) -> Episode:
    folder = root / name
    generate(
        SampleOptions(
            out=folder, seconds=seconds, characters=2, seed=seed, episode=number, ja_offset_ms=700
        )
    )
    return Episode(name, folder, seed, number)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Episode]:
    root = tmp_path_factory.mktemp("batch")
    out = {name: _generate(root, name, seed, n, SECONDS) for name, seed, n in BATCH}
    name, seed, n = VICTIM
    out[name] = _generate(root, name, seed, n, VICTIM_SECONDS)
    return out


def _submission(store: ObjectStore, ep: Episode, dataset: str) -> jobs_pb2.EpisodeSubmission:
    ja, en = upload(store, ep.ja, "ja"), upload(store, ep.en, "en")
    # The faults are the orchestrator's; faces and quality (covered by test_pipeline) would
    # only add time.
    return submission(
        read_show(ep.show), ep.number, ja, en, dataset=dataset, faces=False, quality=False
    )


def _reference_run(batch: dict[str, Episode], root: Path) -> Path:
    """The four good episodes through the embedded pipeline, undisturbed; their dataset."""
    with embedded(root) as pipeline:
        ids = [
            pipeline.submit(_submission(pipeline.store, batch[name], DATASET))[0].job_id
            for name, _, _ in BATCH
        ]
        for job_id in ids:
            *_, job = pipeline.watch(job_id)
            assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error_reason
        export_dataset(pipeline.store, ExportOptions(dataset=DATASET))
    return root / "datasets" / DATASET


@pytest.fixture(scope="module")
def reference_run(
    batch: dict[str, Episode], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[Path]]:
    """The undisturbed run, in a thread of this process from before the faults begin: it
    computes while the batch mostly waits (on restarts, rebalances and the outages)."""
    root = tmp_path_factory.mktemp("reference")
    with ThreadPoolExecutor(1, thread_name_prefix="reference") as pool:
        yield pool.submit(_reference_run, batch, root)


@pytest.fixture(scope="module")
def reference(reference_run: Future[Path]) -> Path:
    return reference_run.result(timeout=1500)


@pytest.fixture(scope="module")
def private_infra(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, str]]]:
    run_dir = tmp_path_factory.mktemp("infra")
    env = infra.up(run_dir, durable=True)
    assert env["DUBSET_KAFKA_STORAGE"].startswith("s3://"), env["DUBSET_KAFKA_STORAGE"]
    try:
        yield run_dir, env
    finally:
        infra.down(run_dir)


@pytest.fixture(scope="module")
def cluster(
    private_infra: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    _, infra_env = private_infra
    namespace = f"faults{uuid.uuid4().hex[:8]}"
    run_dir = tmp_path_factory.mktemp("services")
    # A request lost to a fault is re-sent after the stage timeout (an hour by default); the
    # batch's stages take seconds, so a lost one is found within the test's time.
    env = service_env(
        namespace, DUBSET_MAX_CRASHES=str(MAX_CRASHES), DUBSET_JOBS_STAGE_TIMEOUT_S="240"
    )
    try:
        addrs = services.up(run_dir, infra_env, env)
        yield Cluster(run_dir, namespace, infra_env, env, addrs)
    finally:
        services.down(run_dir)


def _states(cluster: Cluster, ids: dict[str, str]) -> dict[str, jobs_pb2.JobStatus]:
    channel, stub = cluster.stub()
    with channel:
        return {
            name: stub.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=10)
            for name, job_id in ids.items()
        }


def _kill(cluster: Cluster, name: str) -> None:
    """SIGKILL; _supervise starts it again, as Kubernetes would."""
    pid = infra.read_pid(cluster.run_dir, name)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _supervise(cluster: Cluster, chaos: Chaos, done: threading.Event) -> None:
    """Kubernetes' part: whatever is not running (killed here, or dead of a fault of its own)
    is started again, however many tries that takes; a start that fails (slow on a loaded
    machine, or during an outage) is tried again a moment later."""
    while not done.wait(0.5):
        if not services.missing(cluster.run_dir):
            continue
        try:
            cluster.restart_missing()
        except (SystemExit, Exception) as exc:
            chaos.restart_failures.append(str(exc)[:300])


def _poison(cluster: Cluster, chaos: Chaos, done: threading.Event) -> None:
    """The OOM killer: the packaging worker dies whenever it begins one more delivery of the
    victim's request, MAX_CRASHES times. A thread of its own that, once it knows the request
    id, reads only the store, so it never waits behind the main loop's outages and restarts:
    the victim's packaging must never get to finish."""
    request_id = ""
    while not done.is_set() and chaos.victim_kills < MAX_CRASHES:
        if not request_id:
            victim = _status_or_none(cluster, {"victim": chaos.jobs["victim"]}).get("victim")
            tasks = [t for t in victim.stages if t.stage == "packaging"] if victim else []
            request_id = tasks[0].request_id if tasks else ""
        if request_id and _delivered_again(cluster, request_id, chaos.victim_kills):
            _kill(cluster, "packaging-worker")
            chaos.victim_kills += 1
            # Not again before it is back: the next delivery is the restarted worker's.
            while not done.is_set() and services.missing(cluster.run_dir):
                done.wait(0.2)
            continue
        done.wait(0.1)


def _delivered_again(cluster: Cluster, request_id: str, kills: int) -> bool:
    """Whether a worker has begun one more delivery of this packaging request: the worker
    records each delivery in the store just before it starts the work."""
    key = f"workers/packaging/deliveries/{request_id}.json"
    try:
        entry = json.loads(cluster.store().get_bytes(key))
    except (DubsetError, ValueError):
        return False  # not begun yet, or the store is down
    return bool(entry.get("deliveries", 0) > kills)


def _status_or_none(cluster: Cluster, ids: dict[str, str]) -> dict[str, jobs_pb2.JobStatus]:
    """The jobs' status, or nothing while the jobs server is restarting or unreachable."""
    import grpc

    try:
        return _states(cluster, ids)
    except grpc.RpcError:
        return {}


def _drive(cluster: Cluster, private_run_dir: Path, chaos: Chaos, timeout_s: float) -> None:
    """Until every job ends: random kills, one broker restart, one 30 s S3 outage, and the
    victim's packaging worker killed whenever it works on the victim (_poison)."""
    done = threading.Event()
    poison = threading.Thread(target=_poison, args=(cluster, chaos, done), daemon=True)
    poison.start()
    try:
        _chaos_loop(cluster, private_run_dir, chaos, timeout_s)
    finally:
        done.set()
        poison.join(timeout=60)


@contextlib.contextmanager
def _supervised(cluster: Cluster, chaos: Chaos) -> Iterator[None]:
    done = threading.Event()
    thread = threading.Thread(target=_supervise, args=(cluster, chaos, done), daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=180)


def _chaos_loop(cluster: Cluster, private_run_dir: Path, chaos: Chaos, timeout_s: float) -> None:
    rng = random.Random(8)
    began = time.monotonic()
    last_kill: dict[str, float] = {}
    next_kill = began + rng.uniform(4, 8)
    broker_at, s3_at = began + 25, began + 70
    while time.monotonic() - began < timeout_s:
        now = time.monotonic()
        jobs = _status_or_none(cluster, chaos.jobs)
        if jobs and all(j.state in TERMINAL for j in jobs.values()):
            return
        if broker_at and now >= broker_at:
            with infra.outage(private_run_dir, "kafka"):
                time.sleep(3)
                # The jobs server starts again while the broker does: its first metadata
                # requests fail, and its group must still end up consuming every topic.
                _kill(cluster, "jobs-server")
                chaos.kills.append((round(time.monotonic() - began, 1), "jobs-server"))
            chaos.outages.append((round(now - began, 1), "kafka", round(time.monotonic() - now)))
            broker_at = 0
            continue
        if s3_at and now >= s3_at:
            with infra.outage(private_run_dir, "s3"):
                time.sleep(30)
            chaos.outages.append((round(now - began, 1), "s3", round(time.monotonic() - now)))
            s3_at = 0
            continue
        if now >= next_kill and len(chaos.kills) < MAX_RANDOM_KILLS:
            rested = [n for n in RANDOM_VICTIMS if now - last_kill.get(n, -1e9) >= COOLDOWN_S]
            name = rng.choice(rested)
            _kill(cluster, name)
            last_kill[name] = now
            chaos.kills.append((round(now - began, 1), name))
            next_kill = time.monotonic() + rng.uniform(5, 12)
        time.sleep(0.3)
    raise AssertionError(
        f"the batch did not finish in {timeout_s} s: {chaos}\n{_stuck(cluster, chaos)}"
    )


def _stuck(cluster: Cluster, chaos: Chaos) -> str:
    """Where each unfinished job waits, and the last lines of every service's log."""
    lines = []
    for name, job in _status_or_none(cluster, chaos.jobs).items():
        waiting = [
            f"{t.stage}={t.state} tries={t.tries} req={t.request_id[:12]} {t.message!r}"
            for t in job.stages
            if t.state not in ("DONE", "SKIPPED")
        ]
        lines.append(f"{name}: {jobs_pb2.JobState.Name(job.state)} {waiting}")
    for log in sorted((cluster.run_dir / "logs").glob("*.log")):
        lines.append(f"--- {log.name}\n{infra.tail(log, 40)}")
    return "\n".join(lines)


def _cli(cluster: Cluster, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **cluster.infra, **cluster.env, "DUBSET_JOBS_SERVER": cluster.jobs_addr}
    return subprocess.run(
        [*DUBSET, *args], check=False, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def chaos(
    cluster: Cluster,
    private_infra: tuple[Path, dict[str, str]],
    batch: dict[str, Episode],
    reference_run: Future[Path],  # started first: it runs beside the batch
    tmp_path_factory: pytest.TempPathFactory,
) -> Chaos:
    private_run_dir, _ = private_infra
    out = Chaos()
    store = cluster.store()
    channel, stub = cluster.stub()
    with channel:
        for name, _, _ in (*BATCH, VICTIM):
            dataset = "victim" if name == "victim" else DATASET
            sub = _submission(store, batch[name], dataset)
            reply = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=sub), timeout=60)
            out.jobs[name] = reply.job.job_id
    began = time.monotonic()
    with _supervised(cluster, out):
        _run_and_retry(cluster, private_run_dir, out)
        print(f"faults: the batch and the retry took {time.monotonic() - began:.0f} s")
    export = _cli(cluster, ["export", "--dataset", DATASET])
    assert export.returncode == 0, export.stderr
    out.dataset_dir = download(cluster, f"datasets/{DATASET}", tmp_path_factory.mktemp("ds"))
    print(f"faults: kills {out.kills}, victim kills {out.victim_kills}, outages {out.outages}")
    print(f"faults: restarts that failed and were tried again: {out.restart_failures}")
    return out


def _run_and_retry(cluster: Cluster, private_run_dir: Path, out: Chaos) -> None:
    _drive(cluster, private_run_dir, out, timeout_s=1500)
    out.final = _states(cluster, out.jobs)
    bus = KafkaBus(KafkaOptions(bootstrap=cluster.infra["DUBSET_KAFKA_BOOTSTRAP"]))
    dlq = topics.dlq("packaging", cluster.env["DUBSET_TOPIC_PREFIX"])
    out.letters = [common_pb2.DeadLetter.FromString(r.value) for r in bus.read_topic(dlq)]
    listing = _cli(cluster, ["jobs", "--state", "failed"])
    assert listing.returncode == 0, listing.stderr
    out.jobs_listing = listing.stdout
    # The fix: nobody kills the packaging worker any more. Retry reuses every finished stage.
    retry = _cli(cluster, ["retry", out.jobs["victim"]])
    assert retry.returncode == 0, retry.stderr
    try:
        out.retried = cluster.wait(out.jobs["victim"], timeout_s=600)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {out}\n{_stuck(cluster, out)}") from None


def test_every_good_episode_succeeds_through_the_faults(chaos: Chaos) -> None:
    for name, _, _ in BATCH:
        job = chaos.final[name]
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, (name, job.error_stage, job.error_reason)
    assert len(chaos.kills) >= 5, chaos.kills
    assert [what for _, what, _ in chaos.outages] == ["kafka", "s3"]
    assert chaos.outages[1][2] >= 30


def test_the_dataset_is_byte_identical_to_the_undisturbed_run(
    chaos: Chaos, reference: Path
) -> None:
    assert chaos.dataset_dir is not None
    for name in ("anim400k_annotations.json", "manifest.jsonl"):
        assert (chaos.dataset_dir / name).read_bytes() == (reference / name).read_bytes(), name
    manifest = [
        json.loads(ln) for ln in (chaos.dataset_dir / "manifest.jsonl").read_text().splitlines()
    ]
    paths = [m["path"] for m in manifest]
    assert len(paths) == len(set(paths)), "a clip is listed twice"
    assert {m["episode_id"] for m in manifest} == {
        j.episode_id for n, j in chaos.final.items() if n != "victim"
    }


def test_the_episode_that_kills_its_worker_fails_alone_with_the_reason(chaos: Chaos) -> None:
    victim = chaos.final["victim"]
    assert victim.state == jobs_pb2.JOB_STATE_FAILED
    where = (victim.error_stage, victim.error_code)
    assert where == ("packaging", "CRASHED"), (where, victim.error_reason, chaos.kills)
    assert "stopped 3 times" in victim.error_reason and "more memory" in victim.error_reason
    assert chaos.victim_kills == MAX_CRASHES


def test_its_request_sits_in_the_dlq_and_dubset_jobs_shows_it(chaos: Chaos) -> None:
    victim = chaos.final["victim"]
    crashed = [d for d in chaos.letters if d.error_code == "CRASHED"]
    assert len(crashed) == 1, [(d.error_code, d.error_message) for d in chaos.letters]
    request = common_pb2.StageRequest.FromString(crashed[0].value)
    assert request.job_id == victim.job_id and request.stage == "packaging"
    assert victim.job_id in chaos.jobs_listing and "FAILED" in chaos.jobs_listing.upper()


def test_retry_after_the_fix_reprocesses_it(chaos: Chaos) -> None:
    assert chaos.retried is not None
    assert chaos.retried.state == jobs_pb2.JOB_STATE_SUCCEEDED, chaos.retried.error_reason
    reused = {s.stage: s.reused for s in chaos.retried.stages}
    assert reused.get("packaging") is False


def test_no_fault_put_a_credential_in_a_log_or_job_status(chaos: Chaos, cluster: Cluster) -> None:
    assert where_secrets_are(cluster, min_jobs=len(chaos.final)) == []
