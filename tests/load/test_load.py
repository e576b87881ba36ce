"""Load: 100 short episodes submitted at once to the distributed pipeline (`make test-load`).

Every job must finish, every service must keep running (the broker's topics queue the work:
backpressure, not crashes), and each service's memory must stay bounded: its peak while the
last quarter of the jobs finish is no higher than while the first quarter did, plus a margin.
The figures (wall time, episodes per hour, peak RSS per service, the deepest queue) are
written to bench/out/load.json.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from dubset.v1 import jobs_pb2
from dubset_cli.upload import read_show, submission, upload
from dubset_sample.generate import SampleOptions, generate
from tests.e2e.conftest import Cluster

pytestmark = pytest.mark.timeout(5400)

ROOT = Path(__file__).resolve().parents[2]
EPISODES = 100
SECONDS = 10.0
SEED = 31  # its shared backing aligns clearly (peak ~50 sd) also after re-encoding
MAX_RSS_MB = 3000  # any one service process tree
GROWTH_MB = 150  # allowed rise of a service's peak from the first quarter to the last
SERVICES = (
    "jobs-server",
    *(f"{s}-worker" for s in ("media", "separation", "asr", "diarization", "alignment",
                              "packaging", "tts")),
)  # fmt: skip
TERMINAL = (jobs_pb2.JOB_STATE_SUCCEEDED, jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_CANCELLED)


def _variants(source: Path, dest: Path, count: int) -> list[tuple[Path, Path]]:
    """count distinct episode pairs from one: each audio track scaled by a different gain, so
    every stage computes afresh (no content-addressed reuse) while generation stays cheap."""
    out = []
    for i in range(count):
        folder = dest / f"v{i:03d}"
        folder.mkdir(parents=True)
        gain = f"{1.0 - i * 0.002:.3f}"
        pair = []
        for lang in ("ja", "en"):
            target = folder / f"{lang}.mp4"
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-i", str(source / f"{lang}.mp4"), "-c:v", "copy",
                 "-af", f"volume={gain}", "-c:a", "aac", "-b:a", "192k", str(target)],
                check=True, timeout=60,
            )  # fmt: skip
            pair.append(target)
        out.append((pair[0], pair[1]))
    return out


@dataclass
class Sampler:
    """Peak RSS (MB) of each service's process tree, split by how many jobs had finished."""

    cluster: Cluster
    quarters: dict[str, list[float]] = field(default_factory=dict)  # name -> peak per quarter
    done: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            quarter = min(3, self.done * 4 // EPISODES)
            for name in SERVICES:
                try:
                    proc = psutil.Process(self.cluster.pid(name))
                    rss = proc.memory_info().rss + sum(
                        c.memory_info().rss for c in proc.children(recursive=True)
                    )
                except (psutil.Error, AssertionError):
                    continue
                peaks = self.quarters.setdefault(name, [0.0] * 4)
                peaks[quarter] = max(peaks[quarter], rss / 2**20)


@dataclass
class Load:
    wall_s: float
    final: dict[str, jobs_pb2.JobStatus]
    peaks: dict[str, list[float]]
    max_pending: int
    pids_before: dict[str, int]
    pids_after: dict[str, int]


@pytest.fixture(scope="module")
def load(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Load:
    root = tmp_path_factory.mktemp("load")
    generate(
        SampleOptions(out=root / "base", seconds=SECONDS, characters=2, seed=SEED, ja_offset_ms=700)
    )
    show = read_show(root / "base" / "show.json")
    pairs = _variants(root / "base", root / "variants", EPISODES)
    store = cluster.store()
    subs = [
        submission(show, i + 1, upload(store, ja, "ja"), upload(store, en, "en"), dataset="load")
        for i, (ja, en) in enumerate(pairs)
    ]
    pids_before = {name: cluster.pid(name) for name in SERVICES}
    sampler = Sampler(cluster)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    channel, stub = cluster.stub()
    started = time.monotonic()
    with channel:
        ids = [
            stub.SubmitEpisode(jobs_pb2.SubmitEpisodeRequest(submission=s), timeout=60).job.job_id
            for s in subs
        ]
    print(f"load: {len(ids)} submitted in {time.monotonic() - started:.1f} s")
    final: dict[str, jobs_pb2.JobStatus] = {}
    max_pending = 0
    while len(final) < len(ids) and time.monotonic() - started < 5000:
        channel, stub = cluster.stub()
        with channel:
            listed = stub.ListJobs(jobs_pb2.ListJobsRequest(page_size=500), timeout=30).jobs
        by_id = {j.job_id: j for j in listed}
        for job_id in ids:
            job = by_id.get(job_id)
            if job is not None and job.state in TERMINAL:
                final[job_id] = job
        # Requests sent and not yet answered: at most one per worker is being worked on, the
        # rest wait in the broker's topics.
        pending = sum(1 for j in by_id.values() for s in j.stages if s.state == "RUNNING")
        max_pending = max(max_pending, pending)
        sampler.done = len(final)
        time.sleep(2.0)
    wall = time.monotonic() - started
    sampler.stop.set()
    thread.join(5)
    pids_after = {name: cluster.pid(name) for name in SERVICES}
    result = Load(wall, final, sampler.quarters, max_pending, pids_before, pids_after)
    report = {
        "episodes": EPISODES,
        "episode_seconds": SECONDS,
        "wall_s": round(wall, 1),
        "episodes_per_hour": round(len(final) / wall * 3600, 1),
        "program_rtf": round(wall / (EPISODES * SECONDS), 3),
        "succeeded": sum(j.state == jobs_pb2.JOB_STATE_SUCCEEDED for j in final.values()),
        "max_requests_in_flight": max_pending,
        "peak_rss_mb_by_quarter": {k: [round(v) for v in p] for k, p in sampler.quarters.items()},
    }
    out = ROOT / "bench" / "out" / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return result


def test_every_one_of_the_hundred_episodes_succeeds(load: Load) -> None:
    assert len(load.final) == EPISODES
    failed = {k: (j.error_stage, j.error_reason) for k, j in load.final.items()
              if j.state != jobs_pb2.JOB_STATE_SUCCEEDED}  # fmt: skip
    assert not failed, failed


def test_no_service_crashed_the_queue_took_the_load(load: Load) -> None:
    assert load.pids_after == load.pids_before
    assert load.max_pending > 2 * len(SERVICES), "the work never queued: this was no load"


def test_every_service_s_memory_stays_bounded(load: Load) -> None:
    assert set(load.peaks) == set(SERVICES)
    for name, (first, _, _, last) in load.peaks.items():
        assert max(load.peaks[name]) < MAX_RSS_MB, (name, load.peaks[name])
        assert first > 0 and last <= first + GROWTH_MB, (name, load.peaks[name])
