"""The packaging stage through StageExecutor + LocalStore, the Package rpc and the CLI."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, packaging_pb2
from dubset_cli.main import main
from dubset_common.errors import InvalidInputError, TransientError
from dubset_common.ffmpeg import Tools
from dubset_common.keys import file_sha256, sha256_hex
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore, ObjectInfo
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_packaging import cutter, ffmpeg
from dubset_packaging.calls import PackagingCalls
from dubset_packaging.handler import PackagingStage
from tests.unit.packaging.conftest import OFFSET_MS, SHOW, SPANS, docs

FRAG = "datasets/{}/episodes/{}.json"


def _run(
    store: LocalStore,
    episode: dict[str, Path],
    documents: dict[str, bytes] | None = None,
    **params: object,
) -> common_pb2.StageResult:
    return _run_stage(PackagingStage(), store, episode, documents, **params)


def _run_stage(
    stage: PackagingStage,
    store: LocalStore,
    episode: dict[str, Path],
    documents: dict[str, bytes] | None = None,
    **params: object,
) -> common_pb2.StageResult:
    inputs = {
        n: store.put_bytes(f"in/{n}.json", d, "application/json")
        for n, d in (documents or docs()).items()
    }
    for name, path in episode.items():
        inputs[name] = store.put_file(f"in/{name}.mp4", path, "video/mp4")
    ex = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "packaging"))
    p = packaging_pb2.PackagingParams(**params)  # type: ignore[arg-type]
    return ex.execute(build_request("packaging", "job1", "tiny-e2", inputs, p))


def test_stage_writes_clips_then_the_fragment_and_reuses_on_a_rerun(
    episode: dict[str, Path], tmp_path: Path
) -> None:
    store = LocalStore(tmp_path)
    result = _run(store, episode, video_clips=False)
    frag_bytes = store.get_bytes(FRAG.format("default", "tiny-e2"))
    assert sha256_hex(frag_bytes) == result.outputs["episode"].sha256
    frag = json.loads(frag_bytes)
    clips = frag["episode"]["clips"]
    # The last clip (JA 8000-10600) is clamped into the JA video (10 s + AAC padding).
    assert len(clips) == len(SPANS) and clips[-1]["jp_end_time"].startswith("00:00:10.0")
    assert clips[0]["speakers"] == ["SPEAKER_00"] and clips[1]["speakers"] == ["SPEAKER_01"]
    assert [f["kind"] for f in frag["files"]] == ["audio"] * 2 * len(SPANS)
    for f in frag["files"]:
        path = tmp_path / "datasets/default" / f["path"]
        assert file_sha256(path) == f["sha256"] and path.stat().st_size == f["bytes"]
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["info"]["clips"] == len(SPANS) and manifest["info"]["dropped_clips"] == 0
    assert manifest["backend"].startswith("ffmpeg-")
    again = _run(store, episode, video_clips=False)
    assert again.reused and again.outputs["episode"].sha256 == result.outputs["episode"].sha256


def test_a_second_run_finds_identical_clips_and_does_not_rewrite_them(
    episode: dict[str, Path], tmp_path: Path
) -> None:
    store = LocalStore(tmp_path)
    first = _run(store, episode, video_clips=False)
    clip = next((tmp_path / "datasets/default/anim400k_audio_clips").rglob("*.mp3"))
    before = clip.stat().st_mtime_ns
    # A new episode document (other provenance) is a new request: the stage runs again and
    # finds every clip already in place, byte for byte.
    documents = docs()
    documents["episode"] = documents["episode"].replace(b'"oracle"', b'"oracle-2"', 1)
    second = _run(store, episode, documents, video_clips=False)
    assert not second.reused and second.output_key != first.output_key
    assert clip.stat().st_mtime_ns == before


def test_two_encodings_of_one_episode_never_share_a_file(
    episode: dict[str, Path], tmp_path: Path
) -> None:
    """Job A (64 kbps) and job B (96 kbps) package one episode into one dataset: B must not
    overwrite A's files, so A's fragment (as A wrote it) still matches the stored bytes."""
    store = LocalStore(tmp_path)
    a = _run(store, episode, video_clips=False, audio_bitrate_kbps=64)
    frag_a = json.loads(store.get_bytes(store.key_of(a.outputs["episode"].uri)))
    b = _run(store, episode, video_clips=False, audio_bitrate_kbps=96)
    frag_b = json.loads(store.get_bytes(store.key_of(b.outputs["episode"].uri)))
    paths_a = {f["path"] for f in frag_a["files"]}
    assert paths_a.isdisjoint(f["path"] for f in frag_b["files"])
    assert {c["jp_clip"] for c in frag_a["episode"]["clips"]}.isdisjoint(
        c["jp_clip"] for c in frag_b["episode"]["clips"]
    )
    for f in frag_a["files"]:
        assert file_sha256(tmp_path / "datasets/default" / f["path"]) == f["sha256"]


class _RacingStore(LocalStore):
    """A store where another job rewrites the first clip file after this job stored its second
    (the interleaving of two jobs writing one file name)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.clips: list[str] = []

    def put_file(
        self, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        info = super().put_file(key, path, content_type)
        if "/anim400k_audio_clips/" in key:
            self.clips.append(key)
            if len(self.clips) == 2:
                super().put_bytes(self.clips[0], b"another job's bytes", content_type)
        return info


def test_a_clip_changed_under_the_job_fails_it_retryably_without_a_fragment(
    episode: dict[str, Path], tmp_path: Path
) -> None:
    store = _RacingStore(tmp_path)
    with pytest.raises(TransientError, match="another job changed it") as err:
        _run(store, episode, video_clips=False)
    assert err.value.retryable and store.clips[0] in str(err.value)
    assert not store.exists(FRAG.format("default", "tiny-e2"))


def test_an_ffmpeg_timeout_is_retryable_not_invalid_input(
    episode: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow, loaded host must not fail a job for good: the timeout is a TransientError."""
    slow = tmp_path / "slow-ffmpeg"
    slow.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = -version ] && { echo "ffmpeg version slow-1"; exit 0; }; done\n'
        "exec sleep 30\n"
    )
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    ffprobe = shutil.which("ffprobe")
    assert ffprobe is not None

    def run_tool(argv: list[str], timeout_s: float, *rest: int) -> ffmpeg.ToolResult:
        assert timeout_s >= 120  # the real limit; this test stops the wedged ffmpeg sooner
        return ffmpeg.run_tool(argv, 0.5, *rest)

    monkeypatch.setattr(cutter, "run_tool", run_tool)
    stage = PackagingStage(Tools(str(slow), ffprobe))
    with pytest.raises(TransientError, match=r"took longer than 0\.5 s") as err:
        _run_stage(stage, LocalStore(tmp_path / "s"), episode, video_clips=False)
    assert err.value.retryable and err.value.code == "UNAVAILABLE"


def test_video_clips_are_listed_with_their_codec(episode: dict[str, Path], tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    _run(store, episode, docs(spans=SPANS[:1]), dataset="vids")
    frag = json.loads(store.get_bytes(FRAG.format("vids", "tiny-e2")))
    codecs = sorted((f["language"], f["codec"]) for f in frag["files"])
    assert codecs == [("en", "h264+aac"), ("en", "mp3"), ("ja", "h264+aac"), ("ja", "mp3")]
    assert all(f["path"].startswith("anim400k_") for f in frag["files"])


def _bad(documents: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    return {**documents, name: data}


@pytest.mark.parametrize(
    ("documents", "params", "reason"),
    [
        (docs(), {"dataset": "../x"}, "invalid dataset name"),
        (_bad(docs(), "clips", b"[1, 2"), {}, "clips.json is not valid JSON"),
        (docs(spans=[(20_000, 21_000)]), {}, "outside the en video"),
        (docs(episode_id="bad id"), {}, "episode_id"),
        (
            _bad(
                docs(),
                "media",
                b'{"audio": {"ja": {"stream_index": 5}, "en": {"stream_index":'
                b' 1}}, "offset": {"ja_offset_ms": 0}}',
            ),
            {},
            "no such audio stream",
        ),
        (docs(), {"audio_bitrate_kbps": 100}, "mp3 CBR rate"),
    ],
)
def test_bad_inputs_are_refused_with_an_actionable_reason(
    episode: dict[str, Path],
    tmp_path: Path,
    documents: dict[str, bytes],
    params: dict[str, object],
    reason: str,
) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        _run(LocalStore(tmp_path), episode, documents, video_clips=False, **params)


def test_a_video_ffprobe_cannot_read_is_refused(episode: dict[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(InvalidInputError, match="ja video: ffprobe cannot read it"):
        _run(LocalStore(tmp_path / "s"), {**episode, "ja_video": junk}, video_clips=False)


def test_package_rpc_runs_the_same_stage(episode: dict[str, Path], tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    refs = {n: store.put_file(f"in/{n}.mp4", p, "video/mp4") for n, p in episode.items()}
    request = packaging_pb2.PackageRequest(
        episode_id="tiny-e2",
        episode_number=2,
        params=packaging_pb2.PackagingParams(video_clips=False),
    )
    request.show.show = "Tiny Show"
    for name, info in refs.items():
        getattr(request, name).CopyFrom(
            common_pb2.MediaRef(uri=info.uri, sha256=info.sha256, size_bytes=info.size_bytes)
        )
    for s, e in SPANS[:2]:
        request.clips.add(start_ms=s, end_ms=e, ja_start_ms=s + OFFSET_MS, ja_end_ms=e + OFFSET_MS,
                          en_text="hi", ja_text="やあ")  # fmt: skip
        request.speaker_turns.add(start_ms=s, end_ms=e, speaker="S1", language=2)
    calls = PackagingCalls(store, StageMetrics.create(CollectorRegistry(), "packaging"))
    response = calls.package(request)
    assert len(response.clips) == 2 and response.dataset_uri.endswith("datasets/default/")
    clip = response.clips[0]
    assert clip.speakers == ["S1"] and clip.jp_audio.sha256 and clip.en_audio.duration_ms > 0
    assert not clip.HasField("jp_video")
    assert store.exists(store.key_of(clip.jp_audio.uri))


def test_cli_packages_into_a_dataset_directory(
    episode: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {}
    for name, data in docs().items():
        files[name] = tmp_path / f"{name}.json"
        files[name].write_bytes(data)
    show = tmp_path / "show.json"
    show.write_text(json.dumps(SHOW))
    out = tmp_path / "dataset"
    argv = (
        ["package", "--ja", str(episode["ja_video"]), "--en", str(episode["en_video"]),
         "--clips", str(files["clips"]), "--ja-turns", str(files["ja_turns"]),
         "--en-turns", str(files["en_turns"]), "--show", str(show), "--episode", "2",
         "--out", str(out), "--no-video"]
    )  # fmt: skip
    assert main(argv) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["episode_id"] == "tiny-show-season-1-e2" and info["clips"] == len(SPANS)
    frag = json.loads((out / info["episode"]).read_text())
    assert all((out / f["path"]).is_file() for f in frag["files"])
    assert frag["episode"]["url"] == "x"
    assert main(argv) == 0  # a re-run into the same directory is fine


def test_servicer_exports_and_verifies_what_the_stage_wrote(
    episode: dict[str, Path], tmp_path: Path
) -> None:
    from dubset_packaging.server import PackagingServicer

    store = LocalStore(tmp_path)
    _run(store, episode, video_clips=False)
    servicer = PackagingServicer(store, StageMetrics.create(CollectorRegistry(), "packaging"))
    exported = servicer.export(packaging_pb2.ExportRequest(dataset="default"))
    assert exported.num_clips == len(SPANS) and exported.num_episodes == 1
    verified = servicer.verify(packaging_pb2.VerifyRequest(dataset_uri=exported.dataset_uri))
    assert verified.ok and verified.files_checked >= 2 * len(SPANS)
    next((tmp_path / "datasets/default/anim400k_audio_clips").rglob("*.mp3")).unlink()
    broken = servicer.verify(packaging_pb2.VerifyRequest(dataset_uri=exported.dataset_uri))
    assert not broken.ok
    assert broken.problems[0].kind == packaging_pb2.VERIFY_PROBLEM_KIND_MISSING
