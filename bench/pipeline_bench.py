"""Whole-pipeline benchmark: generated episodes through every stage, embedded and distributed.

For each --seconds value an episode is generated (cached under bench/out/episodes/), then:

    embedded      the orchestrator and every stage worker as threads of this process over an
                  in-process bus and a local-directory store (what `dubset run` does)
    distributed   every service its own process (tools/services.py) on `make up`'s Kafka-protocol
                  broker and S3 server, the episode uploaded and submitted by gRPC

Reported per run: wall seconds from submission to SUCCEEDED, RTF (wall / program seconds), the
per-task timeline the jobs service records (request sent, work started, work finished, result
received), and from it:

    compute_busy_s     time in which at least one stage was computing (union of work intervals)
    critical_path      the chain of tasks that decided the end (timing.critical_path): from the
                       last result back through the need each task waited for last, with each
                       task's compute, wait (sent to started) and return seconds
    idle_share         1 - compute_busy_s / wall: the share of wall time in which no stage
                       computed (orchestration, transport, queueing between stages)
    handoff_s          per task, (received - sent) - (finished - started): time a request spent
                       on the bus, queued behind other work, and the result's way back
    queued_s           the part of a task's handoff in which every worker of its stage was busy
                       with another task (in one episode: asr.en behind asr.ja); transport_s is
                       the rest (bench/timing.py)
    handoff_share      handoff_total_s / wall_s; transport_share likewise without the queueing
    packaging_s_per_clip  the packaging stage's compute time / clips written
    tts                the baseline dub: clips dubbed, seconds of dub, the tts stage's compute
                       RTF against the dubbed seconds and against the episode, and the per-clip
                       objective scores averaged (DNSMOS, duration ratio, speaker similarity)

Throughput (--batch K): K distinct episodes (seeds 101..100+K, --batch-seconds long) submitted at
once to the distributed services, once per --workers count (replicas of every Kafka worker,
tools/services.py; topics of --partitions partitions, the episodes spread over them by key hash).
Reported per count: wall seconds from the first submission to the last job's end, episodes per
hour, program seconds per wall second, each job's wall time, and over every task of every job
the handoff / queued / transport p50 and p99, the idle share and the handoff share of the jobs'
summed wall time.

Writes bench/out/pipeline.json (a list of runs: "mode" embedded, distributed or throughput).
Needs `make up` for --distributed and --batch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import grpc  # noqa: E402
import infra  # noqa: E402
from kafka.partitioner.default import murmur2  # noqa: E402
from timing import (  # noqa: E402
    Task,
    cpu_ticks,
    cpu_use,
    critical_path,
    handoffs,
    summary,
    union_ms,
)

import services  # noqa: E402
from dubset.v1 import jobs_pb2, jobs_pb2_grpc  # noqa: E402
from dubset_cli.pipeline import embedded  # noqa: E402
from dubset_cli.upload import read_show, submission, upload  # noqa: E402
from dubset_common.objstore import ObjectStore, S3Store, make_s3_client  # noqa: E402
from dubset_jobs.core.dag import TASKS  # noqa: E402
from dubset_sample.generate import SampleOptions, generate  # noqa: E402

TERMINAL = (jobs_pb2.JOB_STATE_SUCCEEDED, jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_CANCELLED)
SEED = 3  # the single-episode runs'; throughput episodes use BATCH_SEED + 1, + 2, ...
BATCH_SEED = 100


def episode(seconds: float, seed: int = SEED) -> Path:
    name = f"s{int(seconds)}" if seed == SEED else f"s{int(seconds)}-seed{seed}"
    out = ROOT / "bench" / "out" / "episodes" / name
    if not (out / "truth.json").exists():
        print(f"generating a {seconds:.0f} s episode (seed {seed}) ...", file=sys.stderr)
        generate(SampleOptions(out=out, seconds=seconds, seed=seed, ja_offset_ms=1500))
    return out


NEEDS = {t.name: t.needs for t in TASKS}  # the dataset DAG: what each task waits for


def tasks_of(job: jobs_pb2.JobStatus) -> list[Task]:
    return [
        Task(
            job.job_id,
            s.stage,
            s.sent_unix_ms,
            s.started_unix_ms,
            s.finished_unix_ms,
            s.received_unix_ms,
        )
        for s in job.stages
    ]


def timeline(
    job: jobs_pb2.JobStatus, wall_s: float, store: ObjectStore, replicas: int = 1
) -> dict[str, object]:
    tasks = {}
    rows = tasks_of(job)
    split = handoffs(rows, replicas)
    queued = dict(zip([t.name for t in rows if t.complete], split["queued_s"], strict=True))
    for s, row in zip(job.stages, rows, strict=True):
        compute = row.compute_ms / 1000
        tasks[s.stage] = {
            "compute_s": round(compute, 2),
            "round_trip_s": round((s.received_unix_ms - s.sent_unix_ms) / 1000, 2),
            "handoff_s": round(row.handoff_ms / 1000, 2),
            "queued_s": round(queued.get(s.stage, 0.0), 2),
            "backend": s.backend,
            "reused": s.reused,
        }
    busy_ms = union_ms((t.started_ms, t.finished_ms) for t in rows if t.complete)
    handoff, transport = sum(split["handoff_s"]), sum(split["transport_s"])
    clips = _clips(job, store)
    pack = tasks.get("packaging", {})
    compute_pack = float(pack.get("compute_s", 0.0)) if isinstance(pack, dict) else 0.0
    return {
        "wall_s": round(wall_s, 1),
        "compute_busy_s": round(busy_ms / 1000, 1),
        "idle_share": round(1 - busy_ms / 1000 / wall_s, 3) if wall_s else None,
        "handoff_total_s": round(handoff, 1),
        "queued_total_s": round(handoff - transport, 1),
        "transport_total_s": round(transport, 1),
        "handoff_share": round(handoff / wall_s, 3) if wall_s else None,
        "transport_share": round(transport / wall_s, 3) if wall_s else None,
        "handoff": summary(split["handoff_s"]),
        "transport": summary(split["transport_s"]),
        "handoffs_s": split["handoff_s"],
        "clips": clips,
        "packaging_s_per_clip": round(compute_pack / clips, 3) if clips else None,
        "tts": _tts(job, store, tasks),
        "tasks": tasks,
        "critical_path": critical_path(rows, NEEDS),
    }


def _tts(
    job: jobs_pb2.JobStatus, store: ObjectStore, tasks: dict[str, dict[str, object]]
) -> dict[str, object] | None:
    ref = job.outputs.get("tts/baseline")
    if ref is None:
        return None
    baseline = json.loads(store.get_bytes(store.key_of(ref.uri)))
    dubbed_s = sum(f["duration_ms"] for f in baseline["files"]) / 1000
    compute = float(str(tasks.get("tts", {}).get("compute_s", 0.0)))
    return {
        "clips": len(baseline["files"]),
        "unfit_clips": len(baseline.get("unfit_clips", [])),
        "skipped_clips": len(baseline.get("skipped", [])),
        "dubbed_s": round(dubbed_s, 1),
        "rtf_dubbed": round(compute / dubbed_s, 3) if dubbed_s else None,
        "backend": baseline.get("backend"),
        "mean_scores": baseline.get("mean_scores"),
    }


def _clips(job: jobs_pb2.JobStatus, store: ObjectStore) -> int:
    ref = job.outputs.get("packaging/episode")
    if ref is None:
        return 0
    fragment = json.loads(store.get_bytes(store.key_of(ref.uri)))
    return len(fragment["episode"]["clips"])


@dataclass(frozen=True)
class OptionalStages:
    """The optional stages a single run submits with (all on: the defaults)."""

    dubs: bool = True
    faces: bool = True
    quality: bool = True


ALL = OptionalStages()


def machine_ticks() -> tuple[int, int] | None:
    """The machine's (busy, total) CPU ticks now (None off Linux)."""
    try:
        return cpu_ticks(Path("/proc/stat").read_text())
    except OSError:
        return None


def machine_cpu(before: tuple[int, int] | None, wall_s: float) -> dict[str, object]:
    """The whole machine's CPU over a run since `before` (every process: the services, ffmpeg,
    the broker and the object store; keep nothing else running)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return {"cpu": cpu_use(before, machine_ticks(), ticks, os.cpu_count() or 1, wall_s)}


def run_embedded(folder: Path, seconds: float, on: OptionalStages = ALL) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dubset-bench-") as tmp, embedded(Path(tmp)) as p:
        sub = _submission(p.store, folder, on)
        ticks = machine_ticks()
        started = time.monotonic()
        job, _ = p.submit(sub)
        *_, job = p.watch(job.job_id)
        wall = time.monotonic() - started
        cpu = machine_cpu(ticks, wall)
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error_reason
        head = {"mode": "embedded", "seconds": seconds, **asdict(on)}
        return head | {"rtf": round(wall / seconds, 3)} | cpu | timeline(job, wall, p.store)


def peak_rss_mb(run_dir: Path) -> dict[str, float]:
    """Each running service process's resident-memory high-water mark (VmHWM, MB): its peak over
    its whole life, model loading included (child processes such as ffmpeg are not counted)."""
    peaks = {}
    for name in services.known_names(run_dir):
        pid = infra.read_pid(run_dir, name)
        try:
            status = Path(f"/proc/{pid}/status").read_text() if pid else ""
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = round(int(line.split()[1]) / 1024, 1)
    return peaks


def process_cpu_s(pids: dict[str, int]) -> dict[str, float]:
    """Each process's CPU seconds so far: its own, plus its children's that it has waited for
    (ffmpeg runs; not the faces stage's detector processes, which live until it stops)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[name] = sum(int(v) for v in fields[11:15]) / ticks  # utime stime cutime cstime
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per process between two process_cpu_s snapshots, busiest first."""
    spent = {n: round(after[n] - before.get(n, 0.0), 1) for n in after}
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


@dataclass
class Cluster:
    jobs_addr: str
    store: S3Store
    pids: dict[str, int] = field(default_factory=dict)  # every service and server process
    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # filled when the cluster stops


@contextlib.contextmanager
def cluster(replicas: int = 1, partitions: int = 0) -> Iterator[Cluster]:
    """Every service as a process (each Kafka worker `replicas` times) on `make up`'s broker and
    S3 server, in a namespace of its own; yields the jobs server's address and the store, and
    records each process's peak memory when the block ends."""
    run_dir = Path(tempfile.mkdtemp(prefix="dubset-bench-services-"))
    env = infra.ensure_up(Path(os.environ.get("DUBSET_RUN_DIR", ROOT / ".run")))
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    extra = {"DUBSET_TOPIC_PREFIX": f"{namespace}.", "DUBSET_S3_PREFIX": namespace}
    if partitions:
        extra["DUBSET_KAFKA_PARTITIONS"] = str(partitions)
    client = make_s3_client(
        env["DUBSET_S3_ENDPOINT"],
        env["DUBSET_S3_REGION"],
        env["DUBSET_S3_ACCESS_KEY"],
        env["DUBSET_S3_SECRET_KEY"],
    )
    store = S3Store(client, env["DUBSET_S3_BUCKET"], namespace)
    infra_dir = Path(os.environ.get("DUBSET_RUN_DIR", ROOT / ".run"))
    try:
        addrs = services.up(run_dir, env, extra, worker_replicas=replicas)
        pids = {name: infra.read_pid(run_dir, name) for name in services.known_names(run_dir)}
        pids |= {c: infra.read_pid(infra_dir, c) for c in ("kafka", "s3", "prometheus")}
        running = Cluster(addrs["jobs-server"]["grpc"], store, {n: p for n, p in pids.items() if p})
        yield running
        running.peak_rss_mb.update(peak_rss_mb(run_dir))
    finally:
        services.down(run_dir)
        print(f"service logs: {run_dir / 'logs'}", file=sys.stderr)


def _submission(
    store: ObjectStore, folder: Path, on: OptionalStages = ALL
) -> jobs_pb2.EpisodeSubmission:
    """The bench episode's submission, with the optional stages `on` asks for."""
    return submission(
        read_show(folder / "show.json"),
        1,
        upload(store, folder / "ja.mp4", "ja"),
        upload(store, folder / "en.mp4", "en"),
        tts=on.dubs,
        faces=on.faces,
        quality=on.quality,
    )


def run_distributed(folder: Path, seconds: float, on: OptionalStages = ALL) -> dict[str, object]:
    with cluster() as running:
        store = running.store
        sub = _submission(store, folder, on)
        with grpc.insecure_channel(running.jobs_addr) as channel:
            stub = jobs_pb2_grpc.JobServiceStub(channel)
            ticks, procs = machine_ticks(), process_cpu_s(running.pids)
            started = time.monotonic()
            reply = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=sub), timeout=60)
            job = reply.job
            for update in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=reply.job.job_id)):
                job = update
                if job.state in TERMINAL:
                    break
            wall = time.monotonic() - started
            cpu = machine_cpu(ticks, wall)
            cpu["process_cpu_s"] = cpu_delta(procs, process_cpu_s(running.pids))
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error_reason
    return (
        {"mode": "distributed", "seconds": seconds, **asdict(on), "rtf": round(wall / seconds, 3)}
        | cpu
        | timeline(job, wall, store)
        | {"peak_rss_mb": running.peak_rss_mb}
    )


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a key (the jobs service keys every stage
    request by episode id)."""
    return int((murmur2(key.encode()) & 0x7FFFFFFF) % partitions)


def run_throughput(
    folders: list[Path], seconds: float, replicas: int, partitions: int, timeout_s: float
) -> dict[str, object]:
    """Every episode submitted at once; polled until all are terminal."""
    with cluster(replicas, partitions) as running:
        subs = [_submission(running.store, folder) for folder in folders]
        with grpc.insecure_channel(running.jobs_addr) as channel:
            stub = jobs_pb2_grpc.JobServiceStub(channel)
            t0_ms = time.time() * 1000
            accepted = [
                stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=s), timeout=60).job
                for s in subs
            ]
            final: dict[str, jobs_pb2.JobStatus] = {}
            deadline = time.monotonic() + timeout_s
            while len(final) < len(accepted) and time.monotonic() < deadline:
                for submitted in accepted:
                    if submitted.job_id in final:
                        continue
                    job = stub.GetJob(jobs_pb2.GetJobRequest(job_id=submitted.job_id), timeout=30)
                    if job.state in TERMINAL:
                        final[job.job_id] = job
                        print(
                            f"  {len(final)}/{len(accepted)} {job.episode_id}: "
                            f"{jobs_pb2.JobState.Name(job.state)}",
                            file=sys.stderr,
                        )
                time.sleep(0.5)
    jobs = list(final.values())
    ended_ms = [max(j.updated_unix_ms, *(s.received_unix_ms for s in j.stages)) for j in jobs]
    wall = (max(ended_ms) - t0_ms) / 1000 if jobs else timeout_s
    ok = [j for j in jobs if j.state == jobs_pb2.JOB_STATE_SUCCEEDED]
    rows = [t for j in jobs for t in tasks_of(j)]
    owners = {j.job_id: partition_of(j.episode_id, partitions) for j in jobs}
    # One worker per partition when there are as many: a request queues behind its partition.
    split = handoffs(rows, replicas, owners if replicas == partitions else None)
    job_walls = [(end - j.created_unix_ms) / 1000 for j, end in zip(jobs, ended_ms, strict=True)]
    busy = union_ms((t.started_ms, t.finished_ms) for t in rows if t.complete) / 1000
    handoff, transport = sum(split["handoff_s"]), sum(split["transport_s"])
    spread = [0] * partitions
    for submitted in accepted:
        spread[partition_of(submitted.episode_id, partitions)] += 1
    return {
        "mode": "throughput",
        "workers_per_stage": replicas,
        "episodes": len(folders),
        "episode_seconds": seconds,
        "partitions": partitions,
        "episodes_per_partition": spread,
        "succeeded": len(ok),
        "failed": [
            {"episode_id": j.episode_id, "stage": j.error_stage, "reason": j.error_reason}
            for j in jobs
            if j.state != jobs_pb2.JOB_STATE_SUCCEEDED
        ]
        + [
            {"episode_id": i.episode_id, "reason": "timed out"}
            for i in accepted
            if i.job_id not in final
        ],
        "wall_s": round(wall, 1),
        "episodes_per_hour": round(len(ok) / wall * 3600, 1) if wall else None,
        "program_s_per_wall_s": round(len(ok) * seconds / wall, 3) if wall else None,
        "job_wall_s": sorted(round(w, 1) for w in job_walls),
        "compute_busy_s": round(busy, 1),
        "idle_share": round(1 - busy / wall, 3) if wall else None,
        "handoff_total_s": round(handoff, 1),
        "transport_total_s": round(transport, 1),
        "handoff_share": round(handoff / sum(job_walls), 3) if sum(job_walls) else None,
        "transport_share": round(transport / sum(job_walls), 3) if sum(job_walls) else None,
        "handoff": summary(split["handoff_s"]),
        "queued": summary(split["queued_s"]),
        "transport": summary(split["transport_s"]),
        "handoffs_s": split["handoff_s"],
        "peak_rss_mb": running.peak_rss_mb,
    }


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give positive counts, e.g. 1,2")
    return counts


def _show(run: dict[str, object]) -> None:
    brief = {k: v for k, v in run.items() if k not in ("tasks", "handoffs_s")}
    print(json.dumps(brief, indent=2), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, action="append", help="episode length(s)")
    parser.add_argument("--distributed", action="store_true", help="also run it distributed")
    parser.add_argument(
        "--no-tts", action="store_true", help="single runs without the baseline dubs (run_tts off)"
    )
    parser.add_argument("--no-faces", action="store_true", help="single runs without faces")
    parser.add_argument("--no-quality", action="store_true", help="single runs without quality")
    parser.add_argument(
        "--no-embedded", action="store_true", help="with --distributed: only distributed"
    )
    parser.add_argument(
        "--no-single", action="store_true", help="skip the single-episode runs (--batch only)"
    )
    parser.add_argument(
        "--batch", type=int, default=0, metavar="K", help="throughput: K episodes at once (0: off)"
    )
    parser.add_argument(
        "--batch-seconds", type=float, help="length of each batch episode (default: --seconds)"
    )
    parser.add_argument(
        "--workers", type=_counts, default=[1, 2], help="throughput: replicas per worker (1,2)"
    )
    parser.add_argument(
        "--partitions", type=int, default=0, help="throughput: topic partitions (max --workers)"
    )
    parser.add_argument("--timeout-s", type=float, default=7200.0, help="throughput: per count")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "pipeline.json")
    args = parser.parse_args()
    lengths = args.seconds or [120.0]
    on = OptionalStages(not args.no_tts, not args.no_faces, not args.no_quality)
    results: list[dict[str, object]] = []
    for seconds in [] if args.no_single else lengths:
        folder = episode(seconds)
        if not (args.no_embedded and args.distributed):
            print(f"embedded, {seconds:.0f} s ...", file=sys.stderr)
            results.append(run_embedded(folder, seconds, on))
            _show(results[-1])
        if args.distributed:
            print(f"distributed, {seconds:.0f} s ...", file=sys.stderr)
            results.append(run_distributed(folder, seconds, on))
            _show(results[-1])
    failed = False
    if args.batch > 0:
        seconds = args.batch_seconds or lengths[0]
        folders = [episode(seconds, BATCH_SEED + i) for i in range(1, args.batch + 1)]
        partitions = args.partitions or max(args.workers)
        for replicas in args.workers:
            print(
                f"throughput: {args.batch} x {seconds:.0f} s, {replicas} worker(s) per stage, "
                f"{partitions} partitions ...",
                file=sys.stderr,
            )
            results.append(run_throughput(folders, seconds, replicas, partitions, args.timeout_s))
            _show(results[-1])
            failed = failed or bool(results[-1]["failed"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"report: {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
