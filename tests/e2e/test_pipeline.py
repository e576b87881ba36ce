"""The whole pipeline: episodes in by gRPC and by bucket notification, an Anim-400K dataset out.

Every service runs as its own process against the real broker and S3 server of `make up`.
Four episodes run at once; at the end the dataset is exported, verified and scored against the
episodes' ground truth, and compared byte for byte with the embedded run of one episode.
Killed workers, outages and bad submissions have their own tests (test_faults.py,
test_bad_input.py; an identical submission: tests/unit/jobs).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kafka import KafkaProducer

from dubset.v1 import jobs_pb2
from dubset_common import topics
from dubset_common.keys import canonical_json
from dubset_common.timemap import TimeMap
from dubset_common.timemap_proto import timemap_from_proto
from dubset_eval.evaluate import evaluate
from dubset_eval.timemaps import score_map
from tests.e2e.conftest import (
    Cluster,
    Episode,
    download,
    minio_event,
    subtitles_at_ja_times,
    where_secrets_are,
)

# The module's first test builds everything (episodes, the cluster, the run): minutes.
pytestmark = pytest.mark.timeout(1800)

DUBSET = [sys.executable, "-m", "dubset_cli.main"]
DATASET = "e2e"
# Floors from measurement on these four 30 s episodes (make test, 2026-11-21): clip F1
# 73 / 100 / 88 / 100 %, median boundary error 32-54 ms, EN WER 0-3.5 %, JA CER 1-24 %.
# They sit well below, to catch a broken stage rather than model noise.
MIN_CLIP_F1 = 0.6
MAX_MEDIAN_BOUNDARY_MS = 300.0
MAX_EN_WER = 0.15
MAX_JA_CER = 0.4


@dataclass
class Run:
    jobs: dict[str, str] = field(default_factory=dict)
    final: dict[str, jobs_pb2.JobStatus] = field(default_factory=dict)
    dataset_dir: Path | None = None
    verify_output: str = ""
    single_dir: Path | None = None
    dub: Path | None = None  # a1's Japanese video dubbed by `dubset dub --submit`
    dub_log: str = ""


def _cli(cluster: Cluster, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **cluster.infra, **cluster.env, "DUBSET_JOBS_SERVER": cluster.jobs_addr}
    proc = subprocess.run(
        [*DUBSET, *args], check=False, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _submit(cluster: Cluster, ep: Episode, dataset: str = DATASET, faces: bool = False) -> str:
    """Submit an episode; only a1's job finds faces and scores its clips (the rest would only
    add time)."""
    args = ["submit", "--show", str(ep.show), "--episode-number", str(ep.number), *ep.files]
    late = [] if faces else ["--no-faces", "--no-quality"]
    proc = _cli(cluster, [*args, "--dataset", dataset, *late])
    return proc.stdout.strip().splitlines()[-1]


def _dub(cluster: Cluster, args: list[str]) -> subprocess.Popen[str]:
    """`dubset dub --submit` started: it uploads, follows the job and fetches the result."""
    env = {**os.environ, **cluster.infra, **cluster.env, "DUBSET_JOBS_SERVER": cluster.jobs_addr}
    return subprocess.Popen(
        [*DUBSET, "dub", "--submit", *args], env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _announce(cluster: Cluster, ep: Episode) -> None:
    """Upload an episode manifest and put MinIO's notification of it on the ingest topic."""
    store = cluster.store()
    folder = f"incoming/{ep.name}"
    subs = [ep.en_subs] if "subs" in ep.shapes else []
    for path in (ep.ja, ep.en, ep.show, *subs):
        store.put_file(f"{folder}/{path.name}", path)
    manifest = {
        "format": "dubset-episode-manifest/1",
        "show_file": "show.json",
        "episode_number": ep.number,
        "ja": "ja.mp4",
        "en": "en.mp4",
        **({"en_subtitles": ep.en_subs.name} if subs else {}),
        "options": {"dataset": DATASET, "run_faces": False, "run_quality": False},
    }
    key = f"{folder}/{ep.name}.episode.json"
    info = store.put_bytes(key, json.dumps(manifest).encode(), "application/json")
    bucket = cluster.infra["DUBSET_S3_BUCKET"]
    object_key = f"{cluster.namespace}/{key}"
    event = minio_event(bucket, object_key, info.size_bytes, info.sha256[:32])
    producer = KafkaProducer(
        bootstrap_servers=cluster.infra["DUBSET_KAFKA_BOOTSTRAP"], acks="all", retries=5
    )
    try:
        topic = f"{cluster.namespace}.{topics.INGEST}"
        producer.send(
            topic, key=f"{bucket}/{object_key}".encode(), value=json.dumps(event).encode()
        ).get(timeout=30)
    finally:
        producer.close()


def _find_job(cluster: Cluster, show: str, timeout_s: float = 120.0) -> str:
    channel, stub = cluster.stub()
    deadline = time.monotonic() + timeout_s
    with channel:
        while time.monotonic() < deadline:
            for job in stub.ListJobs(jobs_pb2.ListJobsRequest(page_size=100), timeout=10).jobs:
                if job.submission.show.show == show:
                    return job.job_id
            time.sleep(1.0)
    raise AssertionError(f"no job for {show} appeared after the bucket notification")


@pytest.fixture(scope="module")
def run(
    cluster: Cluster, episodes: dict[str, Episode], tmp_path_factory: pytest.TempPathFactory
) -> Run:
    out = Run()
    out.dub = tmp_path_factory.mktemp("dub") / "a1.dubbed.mkv"
    subs = subtitles_at_ja_times(episodes["a1"])
    dubbing = _dub(cluster, ["--video", str(episodes["a1"].ja), "--en-subs", str(subs),
                             "--out", str(out.dub)])  # fmt: skip
    out.jobs["a1"] = _submit(cluster, episodes["a1"], faces=True)
    out.jobs["a2"] = _submit(cluster, episodes["a2"])
    out.jobs["b1"] = _submit(cluster, episodes["b1"])
    _announce(cluster, episodes["c1"])
    out.jobs["c1"] = _find_job(cluster, "Sample Show 13")
    for name, job_id in out.jobs.items():
        out.final[name] = cluster.wait(job_id)
    _, out.dub_log = dubbing.communicate(timeout=600)
    assert dubbing.returncode == 0, out.dub_log[-2000:]
    _cli(cluster, ["export", "--dataset", DATASET, "--lhotse"])
    bucket = cluster.infra["DUBSET_S3_BUCKET"]
    uri = f"s3://{bucket}/{cluster.namespace}/datasets/{DATASET}"
    out.verify_output = _cli(cluster, ["verify", uri]).stdout
    out.dataset_dir = download(cluster, f"datasets/{DATASET}", tmp_path_factory.mktemp("ds"))
    # a1 alone into a second dataset: only packaging runs again, the rest is reused.
    single = _submit(cluster, episodes["a1"], dataset="single")
    out.final["single"] = cluster.wait(single)
    _cli(cluster, ["export", "--dataset", "single"])
    out.single_dir = download(cluster, "datasets/single", tmp_path_factory.mktemp("single"))
    return out


def test_every_good_episode_succeeds(run: Run) -> None:
    for name in ("a1", "a2", "b1", "c1", "single"):
        job = run.final[name]
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, (name, job.error_stage, job.error_reason)


def test_the_exported_dataset_verifies_and_holds_every_episode(run: Run) -> None:
    assert run.dataset_dir is not None
    value = json.loads((run.dataset_dir / "anim400k_annotations.json").read_text())
    shows = {s["show"]: s for split in ("train", "val", "test") for s in value[split]}
    assert sorted(shows) == ["Sample Show 11", "Sample Show 12", "Sample Show 13"]
    assert sorted(shows["Sample Show 11"]["episodes"]) == ["1", "2"]
    assert (run.dataset_dir / "lhotse" / "cuts.jsonl.gz").is_file()


def test_every_episode_has_its_baseline_dub_in_the_manifest(run: Run) -> None:
    """The tts task ran after packaging (on by default): each episode's EN clips have a
    baseline mp3 under anim400k_baseline_clips/ with the same id, listed with its scores."""
    assert run.dataset_dir is not None
    manifest = [
        json.loads(ln) for ln in (run.dataset_dir / "manifest.jsonl").read_text().splitlines()
    ]
    en_audio = [m for m in manifest if m["kind"] == "audio" and m["language"] == "en"]
    en = {(m["episode_id"], m["clip"]) for m in en_audio}
    baselines = [m for m in manifest if m["kind"] == "baseline"]
    assert len({m["episode_id"] for m in baselines}) == 4, "a good episode has no baseline"
    for m in baselines:
        assert (m["episode_id"], m["clip"]) in en
        assert m["path"] == f"anim400k_baseline_clips/{m['clip']}.mp3"
        assert (run.dataset_dir / m["path"]).stat().st_size == m["bytes"]
        assert 1.0 <= m["scores"]["dnsmos"] <= 5.0 and m["scores"]["duration_ratio"] > 0
        # A dub longer than its clip allows (a very short clip) says so.
        assert m["scores"]["duration_ratio"] <= 1.5 or m["fits"] is False, m
    assert len(baselines) >= 0.8 * len(en)


def test_the_scored_episode_s_manifest_lines_carry_the_quality_signals(
    run: Run, episodes: dict[str, Episode]
) -> None:
    """a1's job ran the quality stage (on by default): every line of its clip pairs has the
    signals and a score; the episodes submitted with --no-quality have none."""
    assert run.dataset_dir is not None
    manifest = [
        json.loads(ln) for ln in (run.dataset_dir / "manifest.jsonl").read_text().splitlines()
    ]
    a1 = run.final["a1"].episode_id
    for m in manifest:
        if m["episode_id"] != a1:
            assert "quality" not in m
        elif m["kind"] in ("audio", "video", "baseline"):
            q = m["quality"]
            assert 0.0 <= q["score"] <= 1.0 and q["duration_ratio"] > 0, m
            assert q["dnsmos_ja"] is None or 1.0 <= q["dnsmos_ja"] <= 5.0
    assert any(m["episode_id"] == a1 and "quality" in m for m in manifest)
    assert any(s.stage == "quality" for s in run.final["a1"].stages)


@pytest.mark.parametrize("name", ["a1", "a2", "b1", "c1"])
def test_each_episode_scores_above_the_floors(
    run: Run, episodes: dict[str, Episode], name: str
) -> None:
    assert run.dataset_dir is not None
    report = evaluate(episodes[name].truth, run.dataset_dir)
    assert report.clips, report.problems
    score = report.clips[0].score
    assert score.f1 is not None and score.f1 >= MIN_CLIP_F1, score
    assert score.median_boundary_error_ms is not None
    assert score.median_boundary_error_ms <= MAX_MEDIAN_BOUNDARY_MS
    en = [r for r in report.asr if r.language == "en"]
    assert en and en[0].counts.rate is not None and en[0].counts.rate <= MAX_EN_WER
    ja = [r for r in report.asr if r.language == "ja"]
    assert ja and ja[0].counts.rate is not None and ja[0].counts.rate <= MAX_JA_CER
    assert all(c.result.defects == 0 for c in report.completeness)


@pytest.mark.parametrize("name", ["a2", "b1", "c1"])
def test_a_shaped_release_is_mapped_onto_the_original(
    run: Run, episodes: dict[str, Episode], name: str
) -> None:
    """The media service's map (the job's, else its offset) against the release's true map:
    a 5.1 MKV, a card inserted, a PAL speed-up with pitch correction."""
    job, truth = run.final[name], json.loads(episodes[name].truth.read_text())
    true_map = TimeMap.from_json(truth["time_map"], "truth") if "time_map" in truth else None
    if true_map is None:
        true_map = TimeMap.constant(truth["ja_offset_ms"], truth["duration_ms"], 10**9)
    got = timemap_from_proto(job.time_map) if job.HasField("time_map") else None
    if got is None:
        assert job.ja_offset_known
        got = TimeMap.constant(job.ja_offset_ms, 10**9, 10**9)
    score = score_map(got, true_map)
    assert score.p95_ms is not None and score.p95_ms <= 40.0, score
    assert score.coverage >= 0.95, score
    assert score.pieces == len(true_map.pieces), score


def test_an_english_subtitle_file_names_the_speakers(
    run: Run, episodes: dict[str, Episode]
) -> None:
    """c1's manifest named en.ass: its cues, aligned to the speech, are the EN transcript, and
    their Actor names (the characters') reach the episode's fragment."""
    assert run.dataset_dir is not None
    job = run.final["c1"]
    fragment = json.loads((run.dataset_dir / "episodes" / f"{job.episode_id}.json").read_text())
    cast = {c["name"] for c in json.loads(episodes["c1"].truth.read_text())["characters"]}
    names = fragment.get("speaker_names", {})
    assert names and set(names.values()) <= cast, (names, cast)
    assert "time_map" in fragment  # a speed-up is no constant offset


def test_embedded_and_distributed_give_byte_identical_annotations(
    run: Run, embedded_a1: Path
) -> None:
    assert run.single_dir is not None
    local = embedded_a1 / "datasets" / "default"
    name = "anim400k_annotations.json"
    assert (run.single_dir / name).read_bytes() == (local / name).read_bytes(), name
    # "single" ran without faces and quality: its manifest is the embedded one less the faces'
    # files and the quality signals, which a1 among the others has (the "e2e" dataset).
    embedded = [json.loads(ln) for ln in (local / "manifest.jsonl").read_text().splitlines()]
    clips = [m for m in embedded if m["kind"] in ("audio", "video", "baseline")]
    plain = [canonical_json({k: v for k, v in m.items() if k != "quality"}) + b"\n" for m in clips]
    assert (run.single_dir / "manifest.jsonl").read_bytes() == b"".join(plain)
    assert run.dataset_dir is not None
    scored = {m["path"]: m.get("quality") for m in clips}
    among = [json.loads(ln) for ln in (run.dataset_dir / "manifest.jsonl").read_text().splitlines()]
    assert {m["path"]: m.get("quality") for m in among if m["path"] in scored} == scored


def test_faces_through_the_services_are_byte_identical_to_the_embedded_run(
    run: Run, embedded_a1: Path
) -> None:
    """a1's faces (the only job of the four that found them): the AniVid annotations, the
    speaking faces and every face file's manifest line are the embedded run's, byte for byte."""
    assert run.dataset_dir is not None
    local = embedded_a1 / "datasets" / "default"
    for name in ("anivid_annotations.json", "anim400k_faces.json"):
        assert (run.dataset_dir / name).read_bytes() == (local / name).read_bytes(), name

    def face_lines(root: Path) -> list[str]:
        lines = (root / "manifest.jsonl").read_text().splitlines()
        return [ln for ln in lines if json.loads(ln)["kind"] in ("anivid", "anivid_full", "av")]

    ours = face_lines(run.dataset_dir)
    assert ours and ours == face_lines(local)
    faces = json.loads((local / "anim400k_faces.json").read_text())["clips"]
    annotations = (local / "anim400k_annotations.json").read_text()
    assert faces and all(clip in annotations for clip in faces)
    assert any(entry["speaking_track"] is not None for entry in faces.values())


def test_a_dataset_written_under_umask_022_is_readable_by_everyone(embedded_a1: Path) -> None:
    """Handed to other users, a web server or a container of another uid, it can be read."""
    dataset = embedded_a1 / "datasets" / "default"
    paths = [dataset, *dataset.rglob("*")]
    assert sum(p.is_file() for p in paths) > 10
    modes = {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_file()}
    assert modes == {0o644}
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_dir()} == {0o755}


def test_an_episode_among_others_matches_the_embedded_run(run: Run, embedded_a1: Path) -> None:
    """a1 ran beside three other episodes: no clip lost, duplicated or mixed up."""
    assert run.dataset_dir is not None

    def episode_1(path: Path) -> object:
        value = json.loads(path.read_text())
        (show,) = [s for split in value.values() for s in split if s["show"] == "Sample Show 11"]
        return show["episodes"]["1"]

    among = episode_1(run.dataset_dir / "anim400k_annotations.json")
    alone = episode_1(embedded_a1 / "datasets" / "default" / "anim400k_annotations.json")
    assert among == alone
    manifest = [
        json.loads(ln) for ln in (run.dataset_dir / "manifest.jsonl").read_text().splitlines()
    ]
    paths = [m["path"] for m in manifest]
    assert len(paths) == len(set(paths))


def test_a_dub_job_through_the_services_is_byte_identical_to_dubset_dub(
    run: Run, embedded_dub_a1: Path
) -> None:
    """The dub job (media, separation, ASR + diarization, translation, voices, render) ran
    beside the dataset jobs; its MKV, report and SRT are the embedded run's, byte for byte."""
    assert run.dub is not None and "translation" in run.dub_log and "render" in run.dub_log
    for suffix in (".mkv", ".report.json", ".srt"):
        ours, theirs = run.dub.with_suffix(suffix), embedded_dub_a1.with_suffix(suffix)
        assert ours.read_bytes() == theirs.read_bytes(), suffix
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_type:stream_tags=language", "-of", "csv=p=0",
                            str(run.dub)], check=True, capture_output=True, text=True)  # fmt: skip
    assert probe.stdout.split() == ["video", "audio,jpn", "audio,eng", "subtitle,eng"]


def test_credentials_never_reach_logs_or_job_status(run: Run, cluster: Cluster) -> None:
    """After every episode: no service log line and no job status holds the S3 keys (the
    bad-input and fault tests check the same after theirs)."""
    assert where_secrets_are(cluster, min_jobs=len(run.final)) == []
