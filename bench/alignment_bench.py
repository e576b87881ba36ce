"""Alignment benchmark: core speed per episode and catalogue; request latency via broker + S3."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import infra  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402

from dubset.v1 import alignment_pb2, common_pb2  # noqa: E402
from dubset_alignment.core.align import align  # noqa: E402
from dubset_alignment.core.model import Segment  # noqa: E402
from dubset_common import topics  # noqa: E402
from dubset_common.kafkabus import KafkaBus, KafkaOptions  # noqa: E402
from dubset_common.objstore import S3Store, make_s3_client  # noqa: E402
from dubset_common.stagerequest import build_request  # noqa: E402

EPISODE_MS = 24 * 60 * 1000


def episode(seed: int, lines: int = 400) -> tuple[list[Segment], list[Segment]]:
    """A 24-minute episode (longer past 400 lines): each line in JA and, re-timed, in EN."""
    rng = random.Random(seed)
    en: list[Segment] = []
    ja: list[Segment] = []
    t = 2_000
    step = max(EPISODE_MS - 4_000, lines * 3_600) // lines
    for i in range(lines):
        start = t + rng.randint(0, step // 4)
        length = rng.randint(700, min(4_000, step))
        ja.append(Segment(start, start + length, f"台詞{i}"))
        en_start = max(0, start + rng.randint(-300, 300))
        en.append(Segment(en_start, en_start + int(length * rng.uniform(0.8, 1.25)), f"line {i}"))
        t += step
    return en, ja


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def bench_core(catalogue: int) -> dict[str, object]:
    en, ja = episode(0)
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        clips = align(en, ja).clips
        times.append(time.perf_counter() - t0)
    episodes = [episode(i) for i in range(catalogue)]
    t0 = time.perf_counter()
    total_clips = sum(len(align(e, j).clips) for e, j in episodes)
    catalogue_s = time.perf_counter() - t0
    scaling = {}
    for n in (1_000, 10_000, 100_000):
        big_en, big_ja = episode(1, n)
        t0 = time.perf_counter()
        align(big_en, big_ja)
        scaling[str(n)] = round(time.perf_counter() - t0, 4)
    return {
        "episode_segments_per_language": len(en),
        "episode_clips": len(clips),
        "episode_align_ms_median": round(statistics.median(times) * 1000, 3),
        "episode_align_ms_p99": round(pct(times, 99) * 1000, 3),
        "catalogue_episodes": catalogue,
        "catalogue_clips": total_clips,
        "catalogue_align_s": round(catalogue_s, 3),
        "scaling_lines_to_seconds": scaling,
    }


def segments_json(segs: list[Segment]) -> bytes:
    return json.dumps(
        [{"start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text} for s in segs]
    ).encode()


def bench_requests(env: dict[str, str], count: int, fetch_wait_ms: int) -> dict[str, object]:
    ns = f"bench{uuid.uuid4().hex[:8]}"
    prefix = f"{ns}."
    client = make_s3_client(
        env["DUBSET_S3_ENDPOINT"],
        env["DUBSET_S3_REGION"],
        env["DUBSET_S3_ACCESS_KEY"],
        env["DUBSET_S3_SECRET_KEY"],
    )
    store = S3Store(client, env["DUBSET_S3_BUCKET"], ns)
    bus = KafkaBus(KafkaOptions(bootstrap=env["DUBSET_KAFKA_BOOTSTRAP"], partitions=1))
    req_topic, res_topic = topics.requests("alignment", prefix), topics.results("alignment", prefix)
    bus.ensure_topics([req_topic, res_topic, topics.dlq("alignment", prefix)])
    print(f"uploading {count} episodes' segments ...", file=sys.stderr)
    requests = []
    for i in range(count):
        en, ja = episode(1000 + i)
        refs = {
            "en": store.put_bytes(f"in/{i}/en.json", segments_json(en), "application/json"),
            "ja": store.put_bytes(f"in/{i}/ja.json", segments_json(ja), "application/json"),
        }
        requests.append(
            build_request("alignment", f"job-{i}", f"ep-{i}", refs, alignment_pb2.AlignmentParams())
        )
    worker_env = {
        **os.environ,
        **env,
        "DUBSET_TOPIC_PREFIX": prefix,
        "DUBSET_S3_PREFIX": ns,
        "DUBSET_KAFKA_PARTITIONS": "1",
        "DUBSET_KAFKA_FETCH_MAX_WAIT_MS": str(fetch_wait_ms),
        "DUBSET_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen([sys.executable, "-m", "dubset_alignment", "worker"], env=worker_env)
    consumer = KafkaConsumer(
        bootstrap_servers=env["DUBSET_KAFKA_BOOTSTRAP"],
        enable_auto_commit=False,
        fetch_max_wait_ms=fetch_wait_ms,
    )
    tp = TopicPartition(res_topic, 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    producer = bus.producer()
    try:
        fresh = _round(requests, producer, consumer, req_topic, "fresh", warmup=True)
        replay = _round(requests, producer, consumer, req_topic, "replayed", warmup=False)
    finally:
        worker.terminate()
        worker.wait(30)
        producer.close()
        consumer.close()
    return {
        "requests": count,
        "fetch_max_wait_ms": fetch_wait_ms,
        "fresh": fresh,
        "replayed": replay,
    }


def _round(
    requests: list[common_pb2.StageRequest],
    producer: object,
    consumer: KafkaConsumer,
    topic: str,
    label: str,
    warmup: bool,
) -> dict[str, float]:
    latencies = []
    for i, original in enumerate(requests):
        req = common_pb2.StageRequest.FromString(original.SerializeToString())
        req.request_id = uuid.uuid4().hex
        t0 = time.perf_counter()
        producer.publish(topic, req.episode_id.encode(), req.SerializeToString())  # type: ignore[attr-defined]
        _wait_result(consumer, req.request_id, timeout_s=120 if (warmup and i == 0) else 30)
        latencies.append(time.perf_counter() - t0)
        if (i + 1) % 50 == 0:
            print(f"  {label}: {i + 1}/{len(requests)}", file=sys.stderr)
    if warmup:
        latencies = latencies[1:]  # the first waits for the worker to join its group
    return {
        "p50_ms": round(pct(latencies, 50) * 1000, 1),
        "p99_ms": round(pct(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.mean(latencies) * 1000, 1),
    }


def _wait_result(consumer: KafkaConsumer, request_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=100).values():
            for r in records:
                result = common_pb2.StageResult.FromString(r.value)
                if result.request_id == request_id:
                    if result.status != common_pb2.STAGE_STATUS_OK:
                        raise RuntimeError(f"request failed: {result.error_message}")
                    return
    raise TimeoutError(f"no result for {request_id} in {timeout_s}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/alignment.json")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--catalogue", type=int, default=400)
    parser.add_argument("--no-infra", action="store_true", help="core timings only")
    args = parser.parse_args()
    report: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    }
    print("alignment core ...", file=sys.stderr)
    report["alignment_core"] = bench_core(args.catalogue)
    if not args.no_infra:
        env = infra.ensure_up(Path(os.environ.get("DUBSET_RUN_DIR", ROOT / ".run")))
        # Kafka's default fetch wait (500 ms) and a short one: Tansu answers a fetch only when
        # the wait expires, so on it the wait, not dubset, sets the handoff latency.
        report["alignment_request_latency"] = [
            bench_requests(env, args.requests, wait) for wait in (500, 25)
        ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
