"""`dubset run`, `submit`, `status` and `cancel` with broken input: one line, exit 2, nothing
started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_cli.main import main


def _episode(tmp_path: Path) -> dict[str, Path]:
    ja, en, show = tmp_path / "ja.mp4", tmp_path / "en.mp4", tmp_path / "show.json"
    ja.write_bytes(b"x")
    en.write_bytes(b"y")
    show.write_text(json.dumps({"show": "S", "episodes": {"1": {}, "2": {}}}))
    return {"ja": ja, "en": en, "show": show}


@pytest.mark.parametrize(
    ("change", "extra", "message"),
    [
        ("missing ja", [], "does not exist"),
        ("no episode", [], "give --episode"),
        ("bad show", ["--episode", "1"], "not JSON"),
        ("unknown field", ["--episode", "1"], "unknown fields: colour"),
        ("hostile dataset", ["--episode", "1", "--dataset", "../x"], "invalid dataset name"),
    ],
)
def test_dubset_run_refuses_broken_input_before_starting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: str,
    extra: list[str],
    message: str,
) -> None:
    ep = _episode(tmp_path)
    if change == "missing ja":
        ep["ja"].unlink()
        extra = ["--episode", "1"]
    if change == "bad show":
        ep["show"].write_text("{oops")
    if change == "unknown field":
        ep["show"].write_text(json.dumps({"show": "S", "colour": "red"}))
    out = tmp_path / "out"
    argv = ["run", "--ja", str(ep["ja"]), "--en", str(ep["en"]), "--show", str(ep["show"])]
    code = main([*argv, "--out", str(out), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (out / "stages").exists()


def test_submit_of_a_missing_file_never_contacts_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ep = _episode(tmp_path)
    ep["en"].unlink()
    argv = ["submit", "--show", str(ep["show"]), "--episode", "1", "--ja", str(ep["ja"])]
    code = main([*argv, "--en", str(ep["en"]), "--server", "127.0.0.1:1"])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["status", "cancel", "retry"])
def test_an_unreachable_jobs_server_is_one_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 1 on the loopback refuses at once: the RPC fails UNAVAILABLE, no traceback.
    assert main([command, "some-job", "--server", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dubset {command}: UNAVAILABLE") and err.count("\n") == 1
    assert "no jobs server answers at 127.0.0.1:1 (from --server)" in err
    assert "`make up`" in err and "DUBSET_JOBS_SERVER" in err


def test_the_unreachable_default_server_says_where_the_address_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DUBSET_JOBS_SERVER", raising=False)
    monkeypatch.setenv("DUBSET_RUN_DIR", str(tmp_path))
    (tmp_path / "services.json").write_text(json.dumps({"jobs-server": {"grpc": "127.0.0.1:1"}}))
    assert main(["status", "j"]) == 2
    err = capsys.readouterr().err
    assert f"at 127.0.0.1:1 (the jobs server `make up` started, from {tmp_path}" in err
    monkeypatch.setenv("DUBSET_JOBS_SERVER", "127.0.0.1:1")
    assert main(["jobs"]) == 2
    assert "(from DUBSET_JOBS_SERVER)" in capsys.readouterr().err


def test_export_without_any_s3_settings_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DUBSET_S3_ENDPOINT", "DUBSET_S3_ACCESS_KEY", "DUBSET_S3_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    # no AWS credentials anywhere: botocore fails at once with NoCredentialsError
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUBSET_RUN_DIR", str(tmp_path))
    assert main(["export", "--dataset", "default"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NoCredentialsError" in err
    assert f"AWS S3: no DUBSET_S3_ENDPOINT is set and no `make up` state is in {tmp_path}" in err
    for hint in ("DUBSET_S3_ACCESS_KEY", "`make up`", "--store"):
        assert hint in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--episode", "{ja}", "--ja", "{ja}"], "not both"),
        (["--ja", "{ja}"], "name the episode: --episode FILE"),
        (["--episode", "1", "--episode-number", "2", "--ja", "{ja}", "--en", "{en}"], "differ"),
        (["--episode", "{tmp}/nope.mkv"], "nope.mkv does not exist"),
    ],
)
def test_the_episode_files_must_be_named_one_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    ep = _episode(tmp_path)
    names = {"ja": str(ep["ja"]), "en": str(ep["en"]), "tmp": str(tmp_path)}
    argv = ["run", "--show", str(ep["show"]), "--out", str(tmp_path / "out")]
    assert main([*argv, *(a.format(**names) for a in args)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out" / "stages").exists()


def test_a_negative_track_is_refused_by_the_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ep = _episode(tmp_path)
    with pytest.raises(SystemExit):
        main(["run", "--episode", str(ep["ja"]), "--show", str(ep["show"]), "--ja-track", "-1"])
    assert "a track is a stream index >= 0" in capsys.readouterr().err


def test_track_overrides_become_the_media_stage_params(tmp_path: Path) -> None:
    from dubset.v1 import jobs_pb2, media_pb2
    from dubset_cli.release import Release, choose_tracks

    sub = jobs_pb2.EpisodeSubmission()
    choose_tracks(sub, Release(tmp_path, tmp_path, None))
    assert "media" not in sub.options.stage_params  # unset: the job id of a plain submission
    choose_tracks(sub, Release(tmp_path, tmp_path, 3, en_track=2))
    params = media_pb2.MediaParams()
    assert sub.options.stage_params["media"].Unpack(params)
    assert params.en_stream_index == 2 and not params.HasField("ja_stream_index")


def test_a_subtitle_stream_becomes_the_media_stage_param_and_excludes_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dubset.v1 import jobs_pb2, media_pb2
    from dubset_cli.release import Release, choose_tracks

    sub = jobs_pb2.EpisodeSubmission()
    choose_tracks(sub, Release(tmp_path, tmp_path, 3, subtitle_streams={"en": 4}))
    params = media_pb2.MediaParams()
    assert sub.options.stage_params["media"].Unpack(params)
    assert params.en_subtitle_stream == 4 and not params.HasField("en_stream_index")
    ep = _episode(tmp_path)
    argv = ["run", "--episode", str(ep["ja"]), "--show", str(ep["show"]), "--out", str(tmp_path)]
    assert main([*argv, "--en-subs", str(ep["en"]), "--en-subs-track", "2"]) == 2
    assert "give --en-subs or --en-subs-track, not both" in capsys.readouterr().err
