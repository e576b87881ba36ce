"""Whole-pipeline benchmark: one generated episode through every stage, embedded and distributed.

For each --seconds value an episode is generated (cached under bench/out/episodes/), then:

    embedded      the orchestrator and every stage worker as threads of this process over an
                  in-process bus and a local-directory store (what `dubset run` does)
    distributed   every service its own process (tools/services.py) on `make up`'s Kafka-protocol
                  broker and S3 server, the episode uploaded and submitted by gRPC

Reported per run: wall seconds from submission to SUCCEEDED, RTF (wall / program seconds), the
per-task timeline the jobs service records (request sent, work started, work finished, result
received), and from it:

    compute_busy_s     time in which at least one stage was computing (union of work intervals)
    idle_share         1 - compute_busy_s / wall: the share of wall time in which no stage
                       computed (orchestration, transport, queueing between stages)
    handoff_s          per task, (received - sent) - (finished - started): time a request spent
                       on the bus, queued behind other work, and the result's way back
    packaging_s_per_clip  the packaging stage's compute time / clips written
    tts                the baseline dub: clips dubbed, seconds of dub, the tts stage's compute
                       RTF against the dubbed seconds and against the episode, and the per-clip
                       objective scores averaged (DNSMOS, duration ratio, speaker similarity)

Writes bench/out/pipeline.json. Needs `make up` for --distributed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import grpc  # noqa: E402
import infra  # noqa: E402

import services  # noqa: E402
from dubset.v1 import jobs_pb2, jobs_pb2_grpc  # noqa: E402
from dubset_cli.pipeline import embedded  # noqa: E402
from dubset_cli.upload import read_show, submission, upload  # noqa: E402
from dubset_common.objstore import ObjectStore, S3Store, make_s3_client  # noqa: E402
from dubset_sample.generate import SampleOptions, generate  # noqa: E402

TERMINAL = (jobs_pb2.JOB_STATE_SUCCEEDED, jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_CANCELLED)


def episode(seconds: float) -> Path:
    out = ROOT / "bench" / "out" / "episodes" / f"s{int(seconds)}"
    if not (out / "truth.json").exists():
        print(f"generating a {seconds:.0f} s episode ...", file=sys.stderr)
        generate(SampleOptions(out=out, seconds=seconds, seed=3, ja_offset_ms=1500))
    return out


def timeline(job: jobs_pb2.JobStatus, wall_s: float, store: ObjectStore) -> dict[str, object]:
    tasks = {}
    intervals = []
    handoff = 0.0
    for s in job.stages:
        compute = (s.finished_unix_ms - s.started_unix_ms) / 1000
        round_trip = (s.received_unix_ms - s.sent_unix_ms) / 1000
        tasks[s.stage] = {
            "compute_s": round(compute, 2),
            "round_trip_s": round(round_trip, 2),
            "handoff_s": round(round_trip - compute, 2),
            "backend": s.backend,
            "reused": s.reused,
        }
        intervals.append((s.started_unix_ms, s.finished_unix_ms))
        handoff += round_trip - compute
    busy_ms, end = 0, 0
    for begin, stop in sorted(intervals):
        start = max(begin, end)
        if stop > start:
            busy_ms += stop - start
            end = stop
    clips = _clips(job, store)
    pack = tasks.get("packaging", {})
    compute_pack = float(pack.get("compute_s", 0.0)) if isinstance(pack, dict) else 0.0
    return {
        "wall_s": round(wall_s, 1),
        "compute_busy_s": round(busy_ms / 1000, 1),
        "idle_share": round(1 - busy_ms / 1000 / wall_s, 3) if wall_s else None,
        "handoff_total_s": round(handoff, 1),
        "clips": clips,
        "packaging_s_per_clip": round(compute_pack / clips, 3) if clips else None,
        "tts": _tts(job, store, tasks),
        "tasks": tasks,
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


def run_embedded(folder: Path, seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dubset-bench-") as tmp, embedded(Path(tmp)) as p:
        sub = submission(
            read_show(folder / "show.json"),
            1,
            upload(p.store, folder / "ja.mp4", "ja"),
            upload(p.store, folder / "en.mp4", "en"),
        )
        started = time.monotonic()
        job, _ = p.submit(sub)
        *_, job = p.watch(job.job_id)
        wall = time.monotonic() - started
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error_reason
        return {"mode": "embedded", "seconds": seconds, "rtf": round(wall / seconds, 3)} | (
            timeline(job, wall, p.store)
        )


def run_distributed(folder: Path, seconds: float) -> dict[str, object]:
    run_dir = Path(tempfile.mkdtemp(prefix="dubset-bench-services-"))
    env = infra.ensure_up(ROOT / ".run")
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    extra = {"DUBSET_TOPIC_PREFIX": f"{namespace}.", "DUBSET_S3_PREFIX": namespace}
    client = make_s3_client(
        env["DUBSET_S3_ENDPOINT"],
        env["DUBSET_S3_REGION"],
        env["DUBSET_S3_ACCESS_KEY"],
        env["DUBSET_S3_SECRET_KEY"],
    )
    store = S3Store(client, env["DUBSET_S3_BUCKET"], namespace)
    try:
        addrs = services.up(run_dir, env, extra)
        sub = submission(
            read_show(folder / "show.json"),
            1,
            upload(store, folder / "ja.mp4", "ja"),
            upload(store, folder / "en.mp4", "en"),
        )
        with grpc.insecure_channel(addrs["jobs-server"]["grpc"]) as channel:
            stub = jobs_pb2_grpc.JobServiceStub(channel)
            started = time.monotonic()
            reply = stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=sub), timeout=60)
            job = reply.job
            for update in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=reply.job.job_id)):
                job = update
                if job.state in TERMINAL:
                    break
            wall = time.monotonic() - started
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error_reason
        return {"mode": "distributed", "seconds": seconds, "rtf": round(wall / seconds, 3)} | (
            timeline(job, wall, store)
        )
    finally:
        services.down(run_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, action="append", help="episode length(s)")
    parser.add_argument("--distributed", action="store_true", help="also run it distributed")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "pipeline.json")
    args = parser.parse_args()
    results = []
    for seconds in args.seconds or [120.0]:
        folder = episode(seconds)
        print(f"embedded, {seconds:.0f} s ...", file=sys.stderr)
        results.append(run_embedded(folder, seconds))
        print(json.dumps(results[-1], indent=2), file=sys.stderr)
        if args.distributed:
            print(f"distributed, {seconds:.0f} s ...", file=sys.stderr)
            results.append(run_distributed(folder, seconds))
            print(json.dumps(results[-1], indent=2), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
