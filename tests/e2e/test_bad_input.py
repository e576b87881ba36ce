"""Bad input through every door: gRPC submissions, the Kafka ingest topic and the CLI.

Each kind gets a clear error on its own submission or job, and nothing else is disturbed: a
good episode with a unicode title and file names, submitted among them, succeeds; no service
process dies; the ingest dead-letter topic holds exactly the bad records, each with its reason;
and no crafted playlist makes ffmpeg open a local file or a URL.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from kafka import KafkaProducer

from dubset.v1 import common_pb2, jobs_pb2, media_pb2
from dubset_cli.upload import read_show, safe_name, submission
from dubset_common import topics
from dubset_common.kafkabus import KafkaBus, KafkaOptions
from dubset_common.keys import file_sha256
from dubset_common.objstore import S3Store
from dubset_sample.generate import SampleOptions, generate
from tests.e2e.conftest import Cluster, minio_event, where_secrets_are

pytestmark = pytest.mark.timeout(1800)

DUBSET = [sys.executable, "-m", "dubset_cli.main"]
TITLE = "進撃のテスト — «Ωmega» 🗡️ Été"
TERMINAL = (jobs_pb2.JOB_STATE_SUCCEEDED, jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_CANCELLED)
WORKERS_AND_SERVERS = (
    "jobs-server",
    *(f"{s}-{r}" for s in ("media", "separation", "asr", "diarization", "alignment",
                           "packaging", "tts") for r in ("server", "worker")),
)  # fmt: skip


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


@dataclass
class Files:
    """The material: two good episodes and every crafted file."""

    dir: Path
    ja: Path
    en: Path
    show: Path
    other_en: Path
    crafted: dict[str, Path] = field(default_factory=dict)


class Trap:
    """A TCP listener that records whether anything connected (ffmpeg must never)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connected(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True


@pytest.fixture(scope="module")
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.sock.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, trap: Trap) -> Files:
    root = tmp_path_factory.mktemp("bad")
    generate(SampleOptions(out=root / "good", seconds=8, characters=2, seed=51, ja_offset_ms=400))
    generate(SampleOptions(out=root / "other", seconds=20, characters=2, seed=52))
    good = root / "good"
    # The good episode travels under unicode names, with a unicode title.
    ja, en = root / "エピソード 1 (日本語).mp4", root / "Épisode 1 — English dub.mp4"
    shutil.copy(good / "ja.mp4", ja)
    shutil.copy(good / "en.mp4", en)
    show = json.loads((good / "show.json").read_text())
    show["show"] = TITLE
    (root / "show.json").write_text(json.dumps(show, ensure_ascii=False))
    out = Files(root, ja, en, root / "show.json", root / "other" / "en.mp4")
    c = out.crafted
    data = ja.read_bytes()
    c["text"] = root / "notes.mp4"
    c["text"].write_text("these are not the droids you are looking for\n" * 100)
    c["truncated"] = root / "truncated.mp4"
    c["truncated"].write_bytes(data[: len(data) * 2 // 5])
    c["corrupt header"] = root / "corrupt.mp4"
    c["corrupt header"].write_bytes(b"\xde\xad\xbe\xef" * 1024 + data[4096:])
    c["no audio"] = root / "video_only.mp4"
    _ffmpeg("-i", str(ja), "-an", "-c:v", "copy", str(c["no audio"]))
    c["no video"] = root / "audio_only.m4a"
    _ffmpeg("-i", str(ja), "-vn", "-c:a", "copy", str(c["no video"]))
    c["3 hours"] = root / "three_hours.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:s=16x16:r=1", "-f", "lavfi",
        "-i", "anullsrc=r=8000:cl=mono", "-t", "10800", "-c:v", "libx264",
        "-preset", "ultrafast", "-g", "600", "-c:a", "aac", "-b:a", "8k", str(c["3 hours"]),
    )  # fmt: skip
    c["silent ja"] = root / "silent_ja.mp4"
    _ffmpeg("-i", str(ja), "-af", "volume=0", "-c:v", "copy", str(c["silent ja"]))
    c["silent en"] = root / "silent_en.mp4"
    _ffmpeg("-i", str(en), "-af", "volume=0", "-c:v", "copy", "-t", "7.5", str(c["silent en"]))
    c["two english tracks"] = root / "two_english.mkv"
    _ffmpeg(
        "-i", str(ja), "-i", str(en), "-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "1:a",
        "-c", "copy", "-metadata:s:a:0", "language=jpn", "-metadata:s:a:1", "language=eng",
        "-metadata:s:a:2", "language=eng", str(c["two english tracks"]),
    )  # fmt: skip
    c["json as subtitles"] = root / "show.srt"
    shutil.copy(root / "show.json", c["json as subtitles"])
    c["cues after the end"] = root / "late.srt"
    c["cues after the end"].write_text(
        "1\n01:00:00,000 --> 01:00:02,000\nHello.\n\n2\n01:00:03,000 --> 01:00:04,000\nBye.\n"
    )
    c["hls to a local file"] = root / "local.mp4"
    c["hls to a local file"].write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    )
    c["hls to a URL"] = root / "remote.mp4"
    c["hls to a URL"].write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"
        f"http://127.0.0.1:{trap.port}/segment.ts\n#EXT-X-ENDLIST\n"
    )
    c["concat listing"] = root / "listing.mp4"
    c["concat listing"].write_text(
        f"ffconcat version 1.0\nfile '/etc/passwd'\nfile 'http://127.0.0.1:{trap.port}/x.mp4'\n"
    )
    return out


@dataclass
class Outcome:
    refused: dict[str, str] = field(default_factory=dict)  # kind -> "CODE: details"
    jobs: dict[str, str] = field(default_factory=dict)  # kind -> job id
    final: dict[str, jobs_pb2.JobStatus] = field(default_factory=dict)
    letters: dict[bytes, common_pb2.DeadLetter] = field(default_factory=dict)  # key -> letter
    cli: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    pids_before: dict[str, int] = field(default_factory=dict)
    pids_after: dict[str, int] = field(default_factory=dict)


def _ref(store: S3Store, path: Path) -> common_pb2.MediaRef:
    info = store.put_file(f"uploads/bad/{file_sha256(path)}/{safe_name(path)}", path)
    return common_pb2.MediaRef(uri=info.uri, sha256=info.sha256, size_bytes=info.size_bytes)


def _grpc_cases(
    cluster: Cluster, files: Files, trap_port: int
) -> dict[str, Callable[[], jobs_pb2.EpisodeSubmission]]:
    """Submissions that must be refused, or accepted and then fail, by kind."""
    store = cluster.store()
    show = read_show(files.show)
    ja, en = _ref(store, files.ja), _ref(store, files.en)
    bucket = cluster.infra["DUBSET_S3_BUCKET"]

    def with_ja(ref: common_pb2.MediaRef, number: int) -> jobs_pb2.EpisodeSubmission:
        return submission(show, number, ref, en, dataset="bad")

    def crafted(kind: str, number: int) -> Callable[[], jobs_pb2.EpisodeSubmission]:
        return lambda: with_ja(_ref(store, files.crafted[kind]), number)

    def uri(value: str, number: int) -> Callable[[], jobs_pb2.EpisodeSubmission]:
        return lambda: with_ja(common_pb2.MediaRef(uri=value), number)

    def changed(
        number: int, change: Callable[[jobs_pb2.EpisodeSubmission], None]
    ) -> Callable[[], jobs_pb2.EpisodeSubmission]:
        def build() -> jobs_pb2.EpisodeSubmission:
            sub = submission(show, number, ja, en, dataset="bad")
            change(sub)
            return sub

        return build

    def empty() -> jobs_pb2.EpisodeSubmission:
        info = store.put_bytes("uploads/bad/empty/ja.mp4", b"")
        return with_ja(common_pb2.MediaRef(uri=info.uri), 2)

    def set_attr(name: str, value: object) -> Callable[[jobs_pb2.EpisodeSubmission], None]:
        return lambda sub: setattr(sub, name, value)

    def media_params(**fields: int) -> Callable[[jobs_pb2.EpisodeSubmission], None]:
        return lambda sub: sub.options.stage_params["media"].Pack(media_pb2.MediaParams(**fields))

    def en_subtitles(kind: str) -> Callable[[jobs_pb2.EpisodeSubmission], None]:
        return lambda sub: sub.en_subtitles.CopyFrom(_ref(store, files.crafted[kind]))

    def one_file(kind: str, number: int) -> Callable[[], jobs_pb2.EpisodeSubmission]:
        def build() -> jobs_pb2.EpisodeSubmission:
            ref = _ref(store, files.crafted[kind])
            return submission(show, number, ref, ref, dataset="bad")

        return build

    return {
        # refused at the API
        "missing file": uri(store.uri("uploads/bad/nope/ja.mp4"), 1),
        "zero-length file": empty,
        "hostile episode id": changed(4, set_attr("episode_id", "../../etc/passwd")),
        "hostile dataset": changed(5, lambda s: s.options.__setattr__("dataset", "../../x")),
        "key outside the prefix": uri(f"s3://{bucket}/elsewhere/ja.mp4", 6),
        "key with ..": uri(f"s3://{bucket}/{cluster.namespace}/uploads/../../x.mp4", 7),
        "other bucket": uri("s3://somebody-else/ja.mp4", 8),
        "file URL": uri("file:///etc/passwd", 9),
        "http URL": uri(f"http://127.0.0.1:{trap_port}/ja.mp4", 10),
        "malformed sha256": changed(11, lambda s: s.ja_media.__setattr__("sha256", "abc")),
        "size that lies": changed(12, lambda s: s.ja_media.__setattr__("size_bytes", 7)),
        "unknown show field": changed(13, lambda s: s.show.__setattr__("raw_json", '{"x": 1}')),
        "oversized metadata": changed(
            14, lambda s: s.show.__setattr__("raw_json", json.dumps({"synopsis": "あ" * 400_000}))
        ),
        "no show name": changed(15, lambda s: s.show.__setattr__("show", " ")),
        # accepted, then the job fails at its stage
        "not a video": crafted("text", 20),
        "truncated video": crafted("truncated", 21),
        "corrupt header": crafted("corrupt header", 22),
        "no audio stream": crafted("no audio", 23),
        "no video stream": crafted("no video", 24),
        "3-hour episode": crafted("3 hours", 25),
        "hls playlist to a local file": crafted("hls to a local file", 26),
        "hls playlist to a URL": crafted("hls to a URL", 27),
        "concat listing": crafted("concat listing", 28),
        "checksum mismatch": changed(29, lambda s: s.ja_media.__setattr__("sha256", "0" * 64)),
        "different episodes": lambda: submission(
            show, 30, ja, _ref(store, files.other_en), dataset="bad"
        ),
        "swapped languages": lambda: submission(show, 31, en, ja, dataset="bad"),
        "one file with one audio track": lambda: submission(show, 3, ja, ja, dataset="bad"),
        "two English tracks, no override": one_file("two english tracks", 33),
        "a track that does not exist": changed(34, media_params(en_stream_index=9)),
        "a subtitle stream that is audio": changed(35, media_params(en_subtitle_stream=1)),
        "subtitles that are JSON": changed(36, en_subtitles("json as subtitles")),
        "subtitle cues after the end": changed(37, en_subtitles("cues after the end")),
        "silence": lambda: submission(
            show,
            32,
            _ref(store, files.crafted["silent ja"]),
            _ref(store, files.crafted["silent en"]),
            dataset="bad",
        ),
    }


# kind -> (gRPC code, text in its details)
REFUSED = {
    "missing file": ("NOT_FOUND", "does not exist"),
    "zero-length file": ("INVALID_ARGUMENT", "is empty (0 bytes)"),
    "hostile episode id": ("INVALID_ARGUMENT", "invalid episode id"),
    "hostile dataset": ("INVALID_ARGUMENT", "invalid dataset name"),
    "key outside the prefix": ("INVALID_ARGUMENT", "outside prefix"),
    "key with ..": ("INVALID_ARGUMENT", ""),
    "other bucket": ("INVALID_ARGUMENT", "is not an s3:// URI of bucket"),
    "file URL": ("INVALID_ARGUMENT", "is not an s3:// URI"),
    "http URL": ("INVALID_ARGUMENT", "is not an s3:// URI"),
    "malformed sha256": ("INVALID_ARGUMENT", "64 lower-case hex digits"),
    "size that lies": ("INVALID_ARGUMENT", "not the 7 the submission says"),
    "unknown show field": ("INVALID_ARGUMENT", "x"),
    "oversized metadata": ("INVALID_ARGUMENT", "over the limit"),
    "no show name": ("INVALID_ARGUMENT", "show.show"),
}
# kind -> (stage, error code, text in the reason)
FAILS = {
    "not a video": ("media", "INVALID_INPUT", "not a readable media file"),
    "truncated video": ("media", "INVALID_INPUT", "truncated or corrupt"),
    "corrupt header": ("media", "INVALID_INPUT", "not a readable media file"),
    "no audio stream": ("media", "INVALID_INPUT", "no audio stream"),
    "no video stream": ("media", "INVALID_INPUT", "no video stream"),
    "one file with one audio track": ("media", "INVALID_INPUT", "a single audio track"),
    "3-hour episode": ("media", "INVALID_INPUT", "longer than 9000000 ms"),
    "hls playlist to a local file": ("media", "INVALID_INPUT", "refused"),
    "hls playlist to a URL": ("media", "INVALID_INPUT", "refused"),
    "concat listing": ("media", "INVALID_INPUT", "refused"),
    "checksum mismatch": ("media", "INTEGRITY", "sha256"),
    "different episodes": ("media", "INVALID_INPUT", "not the same episode"),
    "two English tracks, no override": ("media", "INVALID_INPUT", "--en-track N"),
    "a track that does not exist": ("media", "INVALID_INPUT", "there is no stream #9"),
    "a subtitle stream that is audio": ("media", "INVALID_INPUT", "#1 is audio, not subtitles"),
    "subtitles that are JSON": ("asr.en", "INVALID_INPUT", "looks like JSON, not subtitles"),
    "subtitle cues after the end": ("asr.en", "INVALID_INPUT", "2 of 2 cues lie outside"),
    "swapped languages": ("asr.ja", "INVALID_INPUT", "does not sound Japanese"),
    "silence": ("media", "INVALID_INPUT", "JA soundtrack is silent"),
}


def _kafka_cases(cluster: Cluster, files: Files) -> dict[bytes, bytes]:
    """Ingest records that must be dead-lettered, by record key."""
    store = cluster.store()
    bucket = cluster.infra["DUBSET_S3_BUCKET"]
    ns = cluster.namespace

    def event_for(key: str, body: bytes) -> bytes:
        info = store.put_bytes(key, body, "application/json")
        return json.dumps(minio_event(bucket, f"{ns}/{key}", info.size_bytes, "0" * 32)).encode()

    manifest = {
        "format": "dubset-episode-manifest/1",
        "show_file": "show.json",
        "episode_number": 1,
        "ja": "../../../etc/passwd",
        "en": "en.mp4",
    }
    hostile = submission(
        read_show(files.show), 40, _ref(store, files.ja), _ref(store, files.en), dataset="bad"
    )
    hostile.episode_id = "../../x"
    return {
        b"garbage": b"\x00\x01\x02 not protobuf, not JSON \xff\xfe",
        b"json that is no event": json.dumps({"hello": "world"}).encode(),
        b"event outside the prefix": json.dumps(
            minio_event(bucket, "elsewhere/x.episode.json", 10, "0" * 32)
        ).encode(),
        b"manifest with ..": event_for(
            "incoming/evil/evil.episode.json", json.dumps(manifest).encode()
        ),
        b"manifest not json": event_for("incoming/broken/broken.episode.json", b"{not json"),
        b"protobuf with a hostile id": hostile.SerializeToString(),
        b"oversized record": json.dumps({"Records": ["x" * 900_000]}).encode(),
    }


# record key -> text in the dead letter's reason
LETTERS = {
    b"garbage": "",
    b"json that is no event": "not an S3 bucket notification",
    b"event outside the prefix": "outside",
    b"manifest with ..": "must stay in the manifest's folder",
    b"manifest not json": "not valid JSON",
    b"protobuf with a hostile id": "invalid episode id",
    b"oversized record": "",
}


def _cli(cluster: Cluster, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **cluster.infra, **cluster.env, "DUBSET_JOBS_SERVER": cluster.jobs_addr}
    return subprocess.run(
        [*DUBSET, *args], check=False, env=env, capture_output=True, text=True, timeout=300
    )


def _submit_args(files: Files, ja: Path, en: Path, show: Path, extra: list[str]) -> list[str]:
    return ["submit", "--show", str(show), "--episode-number", "1", "--ja", str(ja),
            "--en", str(en), *extra]  # fmt: skip


@pytest.fixture(scope="module")
def outcome(cluster: Cluster, files: Files, trap: Trap) -> Outcome:
    out = Outcome()
    out.pids_before = {name: cluster.pid(name) for name in WORKERS_AND_SERVERS}
    # The good episode first, by the CLI, under its unicode names.
    good = _cli(cluster, _submit_args(files, files.ja, files.en, files.show, ["--dataset", "good"]))
    assert good.returncode == 0, good.stderr
    out.jobs["good"] = good.stdout.strip().splitlines()[-1]
    channel, stub = cluster.stub()
    with channel:
        for kind, build in _grpc_cases(cluster, files, trap.port).items():
            try:
                reply = stub.SubmitEpisode(
                    jobs_pb2.SubmitEpisodeRequest(submission=build()), timeout=60
                )
            except grpc.RpcError as err:
                out.refused[kind] = f"{err.code().name}: {err.details()}"
            else:
                out.jobs[kind] = reply.job.job_id
    producer = KafkaProducer(
        bootstrap_servers=cluster.infra["DUBSET_KAFKA_BOOTSTRAP"],
        max_request_size=2_000_000,
        acks="all",
        retries=5,  # kafka-python's default is 0: one refused produce would lose a case
    )
    ingest = topics.ingest(cluster.env["DUBSET_TOPIC_PREFIX"])
    try:
        sent = [
            producer.send(ingest, key=key, value=value)
            for key, value in _kafka_cases(cluster, files).items()
        ]
        producer.flush(30)
        for future in sent:
            future.get(timeout=30)  # a case the broker refused fails here, not as a lost letter
    finally:
        producer.close()
    empty_dir = files.dir / "a directory.mp4"
    empty_dir.mkdir()
    not_json = files.dir / "show.txt"
    not_json.write_text("{oops")
    out.cli = {
        "a directory as video": _cli(
            cluster, _submit_args(files, empty_dir, files.en, files.show, [])
        ),
        "hostile dataset": _cli(
            cluster, _submit_args(files, files.ja, files.en, files.show, ["--dataset", "../x"])
        ),
        "show not JSON": _cli(cluster, _submit_args(files, files.ja, files.en, not_json, [])),
        "hostile job id": _cli(cluster, ["status", "../../etc/passwd"]),
        "unknown job": _cli(cluster, ["status", "no-such-job.123"]),
    }
    for kind, job_id in out.jobs.items():
        out.final[kind] = cluster.wait(job_id, timeout_s=900)
    bus = KafkaBus(KafkaOptions(bootstrap=cluster.infra["DUBSET_KAFKA_BOOTSTRAP"]))
    dlq = topics.dlq("ingest", cluster.env["DUBSET_TOPIC_PREFIX"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(out.letters) < len(LETTERS):
        out.letters = {
            bytes(d.key): d
            for d in (common_pb2.DeadLetter.FromString(r.value) for r in bus.read_topic(dlq))
        }
        time.sleep(1)
    out.pids_after = {name: cluster.pid(name) for name in WORKERS_AND_SERVERS}
    return out


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_bad_submission_is_refused_with_the_reason(outcome: Outcome, kind: str) -> None:
    code, needle = REFUSED[kind]
    assert kind in outcome.refused, f"{kind} was accepted as job {outcome.jobs.get(kind)}"
    got = outcome.refused[kind]
    assert got.startswith(code) and needle in got, got


@pytest.mark.parametrize("kind", sorted(FAILS))
def test_a_bad_episode_fails_at_its_stage_with_the_reason(outcome: Outcome, kind: str) -> None:
    stage, code, needle = FAILS[kind]
    assert kind in outcome.final, f"{kind} was refused: {outcome.refused.get(kind)}"
    job = outcome.final[kind]
    assert job.state == jobs_pb2.JOB_STATE_FAILED, (kind, job.state)
    assert (job.error_stage, job.error_code) == (stage, code), job.error_reason
    assert needle in job.error_reason, job.error_reason


@pytest.mark.parametrize("key", sorted(LETTERS))
def test_a_bad_ingest_record_is_dead_lettered_with_the_reason(outcome: Outcome, key: bytes) -> None:
    assert key in outcome.letters, sorted(outcome.letters)
    letter = outcome.letters[key]
    assert letter.error_message and LETTERS[key] in letter.error_message, letter.error_message


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("a directory as video", "a directory.mp4 is not a file"),
        ("hostile dataset", "invalid dataset name"),
        ("show not JSON", "not JSON"),
        ("hostile job id", "NOT_FOUND: no job"),
        ("unknown job", "no-such-job.123"),
    ],
)
def test_the_cli_refuses_bad_input_in_one_line(outcome: Outcome, case: str, needle: str) -> None:
    proc = outcome.cli[case]
    assert proc.returncode != 0
    assert needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-1500:]


def test_the_good_episode_among_them_succeeds_with_its_unicode_title(
    outcome: Outcome, cluster: Cluster
) -> None:
    job = outcome.final["good"]
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, (job.error_stage, job.error_reason)
    assert job.submission.show.show == TITLE
    export = _cli(cluster, ["export", "--dataset", "good"])
    assert export.returncode == 0, export.stderr
    store = cluster.store()
    value = json.loads(store.get_bytes("datasets/good/anim400k_annotations.json"))
    shows = [s["show"] for split in value.values() for s in split]
    assert shows == [TITLE]


def test_no_service_died_and_ffmpeg_touched_no_url(outcome: Outcome, trap: Trap) -> None:
    assert outcome.pids_after == outcome.pids_before
    assert not trap.connected(), "a crafted playlist made ffmpeg connect to a URL"


def test_no_bad_input_put_a_credential_in_a_log_or_job_status(
    outcome: Outcome, cluster: Cluster
) -> None:
    assert where_secrets_are(cluster, min_jobs=len(outcome.final)) == []
