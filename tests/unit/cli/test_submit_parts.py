"""The CLI's submission parts: uploads, the EpisodeSubmission, where the server is, job views."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dubset.v1 import common_pb2, jobs_pb2
from dubset_cli import jobview
from dubset_cli.connect import DEFAULT_SERVER, jobs_server, store_settings
from dubset_cli.upload import read_show, safe_name, submission, upload
from dubset_common.errors import InvalidInputError
from dubset_common.keys import sha256_hex
from dubset_common.objstore import LocalStore

SHOW = {
    "show": "Kumo",
    "season": "Kumo Season 1",
    "genres": ["Drama"],
    "episodes": {"3": {"url": "https://example.org/3", "synopsis": "Three."}},
}


def test_upload_is_content_addressed_and_reused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    video = tmp_path / "My Episode (JA).mp4"
    video.write_bytes(b"not really a video")
    ref = upload(store, video, "the JA video")
    digest = sha256_hex(b"not really a video")
    assert ref.sha256 == digest and ref.size_bytes == 18 and ref.mime == "video/mp4"
    assert ref.uri.endswith(f"uploads/{digest}/My_Episode_JA_.mp4")
    before = (tmp_path / "store" / "uploads" / digest / "My_Episode_JA_.mp4").stat().st_mtime_ns
    assert upload(store, video, "the JA video") == ref
    after = (tmp_path / "store" / "uploads" / digest / "My_Episode_JA_.mp4").stat().st_mtime_ns
    assert before == after


@pytest.mark.parametrize(
    ("name", "safe"), [("../../etc/passwd", "passwd"), ("..", "file"), ("a b?.mkv", "a_b_.mkv")]
)
def test_safe_names(name: str, safe: str) -> None:
    assert safe_name(Path(name)) == safe


def test_upload_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="is not a file"):
        upload(LocalStore(tmp_path), tmp_path / "nope.mp4", "the JA video")


def test_submission_takes_the_episode_info_from_show_json() -> None:
    ja = common_pb2.MediaRef(uri="s3://b/ja.mp4", sha256="a" * 64)
    en = common_pb2.MediaRef(uri="s3://b/en.mp4", sha256="b" * 64)
    sub = submission(SHOW, 3, ja, en, dataset="anime")
    assert sub.show.show == "Kumo" and list(sub.show.genres) == ["Drama"]
    assert sub.episode.url == "https://example.org/3" and sub.episode.synopsis == "Three."
    assert sub.episode_number == 3 and sub.options.dataset == "anime"
    assert submission(SHOW, 4, ja, en).episode == jobs_pb2.EpisodeInfo()


def test_submission_refuses_unknown_show_fields_and_negative_episodes() -> None:
    ref = common_pb2.MediaRef(uri="s3://b/x", sha256="a" * 64)
    with pytest.raises(InvalidInputError, match="unknown fields: colour"):
        submission({**SHOW, "colour": "red"}, 3, ref, ref)
    with pytest.raises(InvalidInputError, match="negative"):
        submission(SHOW, -1, ref, ref)


def test_read_show_explains_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "show.json"
    path.write_text("[1, 2]")
    with pytest.raises(InvalidInputError, match="JSON object"):
        read_show(path)
    path.write_text("{oops")
    with pytest.raises(InvalidInputError, match="not JSON"):
        read_show(path)


def test_jobs_server_resolution(tmp_path: Path) -> None:
    assert jobs_server("h:1", {}) == "h:1"
    assert jobs_server(None, {"DUBSET_JOBS_SERVER": "h:2"}) == "h:2"
    assert jobs_server(None, {"DUBSET_RUN_DIR": str(tmp_path)}) == DEFAULT_SERVER
    (tmp_path / "services.json").write_text(json.dumps({"jobs-server": {"grpc": "127.0.0.1:7"}}))
    assert jobs_server(None, {"DUBSET_RUN_DIR": str(tmp_path)}) == "127.0.0.1:7"


def test_store_settings_fall_back_to_the_local_infrastructure(tmp_path: Path) -> None:
    (tmp_path / "infra.json").write_text(
        json.dumps({"DUBSET_S3_ENDPOINT": "http://127.0.0.1:9", "DUBSET_S3_BUCKET": "dubset"})
    )
    settings = store_settings({"DUBSET_RUN_DIR": str(tmp_path)})
    assert settings.s3_endpoint == "http://127.0.0.1:9"
    given = store_settings({"DUBSET_RUN_DIR": str(tmp_path), "DUBSET_S3_ENDPOINT": "http://x:1"})
    assert given.s3_endpoint == "http://x:1"


def _job(state: int, fraction: float) -> jobs_pb2.JobStatus:
    job = jobs_pb2.JobStatus(job_id="j1", episode_id="e1", state=state)
    job.stages.add(stage="media", state="DONE", fraction=1.0)
    job.stages.add(stage="asr.ja", state="RUNNING", fraction=fraction)
    return job


def test_describe_shows_a_bar_per_stage_and_the_failure_reason() -> None:
    job = _job(jobs_pb2.JOB_STATE_FAILED, 0.5)
    job.error_stage, job.error_code, job.error_reason = "asr.ja", "INVALID_INPUT", "no speech"
    lines = jobview.describe(job)
    assert lines[0] == "job j1  episode e1  FAILED"
    assert "asr.ja" in lines[2] and "#" * 12 + "-" * 12 in lines[2] and " 50.0%" in lines[2]
    assert lines[-1] == "  failed at asr.ja: INVALID_INPUT: no speech"


def test_live_view_off_a_terminal_prints_only_changes() -> None:
    out = io.StringIO()
    view = jobview.LiveView(out)
    view.show(_job(jobs_pb2.JOB_STATE_RUNNING, 0.1))
    view.show(_job(jobs_pb2.JOB_STATE_RUNNING, 0.11))
    view.show(_job(jobs_pb2.JOB_STATE_SUCCEEDED, 0.5))
    lines = out.getvalue().splitlines()
    assert [ln.split()[0] for ln in lines[:3]] == ["media", "asr.ja", "asr.ja"]
    assert lines[3] == "job j1  episode e1  SUCCEEDED"
