"""Dubbing an episode with the stage commands on local files: translate → speak → render."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from dubset_cli.main import main as dubset
from dubset_sample.subs import english_on_ja

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def episode(dub_episode: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared dubbing episode, with its transcript, turns and subtitles as files."""
    out = tmp_path_factory.mktemp("ep")
    for name in ("truth.json", "ja.mp4", "ja_dialogue.wav"):
        (out / name).symlink_to(dub_episode / name)
    truth = json.loads((out / "truth.json").read_text())
    lines = sorted(truth["lines"], key=lambda x: x["ja"]["start_ms"])
    spans = [(x["ja"]["start_ms"], x["ja"]["end_ms"]) for x in lines]
    segments = [{"start_ms": a, "end_ms": b, "text": x["ja"]["text"]}
                for (a, b), x in zip(spans, lines, strict=True)]  # fmt: skip
    (out / "ja.json").write_text(json.dumps({"segments": segments}, ensure_ascii=False))
    turns = [{"start_ms": a, "end_ms": b, "speaker": x["speaker"]}
             for (a, b), x in zip(spans, lines, strict=True)]  # fmt: skip
    (out / "turns.json").write_text(json.dumps({"language": "ja", "turns": turns}))
    (out / "en.ass").write_text(english_on_ja(truth))  # with the characters' names
    return out


def test_translate_speak_render(episode: Path, tmp_path: Path) -> None:
    tr, speech, video = tmp_path / "tr.json", tmp_path / "speech.wav", tmp_path / "dub.mkv"
    assert dubset(["translate", "--ja", str(episode / "ja.json"), "--turns",
                   str(episode / "turns.json"), "--subs", str(episode / "en.ass"),
                   "--out", str(tr)]) == 0  # fmt: skip
    assert dubset(["speak", "--translation", str(tr), "--ja-audio",
                   str(episode / "ja_dialogue.wav"), "--ja-turns", str(episode / "turns.json"),
                   "--out", str(speech)]) == 0  # fmt: skip
    lines = json.loads(speech.with_suffix(".lines.json").read_text())
    assert len({v["voice"].split("+")[0] for v in lines["voices"]}) == 2  # two characters
    assert dubset(["render", "--video", str(episode / "ja.mp4"), "--speech", str(speech),
                   "--lines", str(speech.with_suffix(".lines.json")), "--ja-dialogue",
                   str(episode / "ja_dialogue.wav"), "--translation", str(tr),
                   "--out", str(video)]) == 0  # fmt: skip
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_type:stream_tags=language", "-of", "csv=p=0",
                            str(video)], check=True, capture_output=True, text=True)  # fmt: skip
    assert probe.stdout.split() == ["video", "audio,jpn", "audio,eng", "subtitle,eng"]
    report = json.loads(video.with_suffix(".report.json").read_text())
    assert [x["start_offset_ms"] for x in report["lines"]] == [0] * len(report["lines"])
    assert all(x["ja_text"] and x["en_text"] for x in report["lines"])


def test_a_bad_voice_pin_and_a_bad_container_say_why(
    episode: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tr = tmp_path / "tr.json"
    assert dubset(["translate", "--ja", str(episode / "ja.json"), "--subs",
                   str(episode / "en.ass"), "--out", str(tr)]) == 0  # fmt: skip
    assert dubset(["speak", "--translation", str(tr), "--voice", "S0",
                   "--out", str(tmp_path / "s.wav")]) == 2  # fmt: skip
    assert "use SPEAKER=VOICE" in capsys.readouterr().err
    assert dubset(["render", "--video", str(episode / "ja.mp4"), "--speech", str(tr),
                   "--lines", str(tr), "--out", str(tmp_path / "x.avi")]) == 2  # fmt: skip
    assert "write a .mkv or an .mp4" in capsys.readouterr().err


def test_dubset_dub_makes_the_dubbed_episode_in_one_command(episode: Path, tmp_path: Path) -> None:
    out = tmp_path / "ep.dubbed.mkv"
    args = ["dub", "--video", str(episode / "ja.mp4"), "--en-subs", str(episode / "en.ass"),
            "--out", str(out)]  # fmt: skip
    assert dubset(args) == 0
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_type:stream_tags=language", "-of", "csv=p=0",
                            str(out)], check=True, capture_output=True, text=True)  # fmt: skip
    assert probe.stdout.split() == ["video", "audio,jpn", "audio,eng", "subtitle,eng"]
    report = json.loads(out.with_suffix(".report.json").read_text())
    assert report["lines"] and all(x["en_text"] for x in report["lines"])
    first = out.read_bytes()
    assert dubset(args) == 0  # a re-run reuses every stage: the same bytes
    assert out.read_bytes() == first


def test_dubset_dub_refuses_what_it_cannot_do(
    episode: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = str(episode / "ja.mp4")
    assert dubset(["dub", "--video", video, "--out", str(tmp_path / "x.avi")]) == 2
    assert "write a .mkv or an .mp4" in capsys.readouterr().err
    assert dubset(["dub", "--video", str(tmp_path / "none.mkv"), "--out", "x.mkv"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert dubset(["dub", "--video", video, "--en-subs", video, "--en-subs-track", "3",
                   "--out", str(tmp_path / "y.mkv")]) == 2  # fmt: skip
    assert "not both" in capsys.readouterr().err
    assert dubset(["dub", "--video", video, "--tts-model-dir", str(tmp_path), "--out",
                   str(tmp_path / "z.mkv")]) == 2  # fmt: skip
    assert "--tts-model-dir is for --tts-backend yourtts" in capsys.readouterr().err
    assert dubset(["dub", "--video", video, "--server", "127.0.0.1:1", "--out",
                   str(tmp_path / "z.mkv")]) == 2  # fmt: skip
    assert "--server goes with --submit" in capsys.readouterr().err


def test_a_yourtts_dub_names_its_model_dir(tmp_path: Path) -> None:
    from dubset.v1 import jobs_pb2, tts_pb2
    from dubset_cli.dub import dub_submission

    args = argparse.Namespace(out=tmp_path / "x.mkv", tts_backend="yourtts", voice=[],
                              tts_model_dir=tmp_path, translation=None, endpoint="",
                              model="", ja_track=None, en_subs_track=None)  # fmt: skip
    sub = dub_submission(args, jobs_pb2.EpisodeSubmission())
    params = tts_pb2.TtsParams()
    sub.options.stage_params["tts"].Unpack(params)
    assert (params.backend, params.model_dir) == ("yourtts", str(tmp_path.resolve()))
    assert sub.options.kind == jobs_pb2.JOB_KIND_DUB


def test_dub_submit_with_the_object_store_down_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--submit uploads first: an unreachable S3 is one line naming the store, exit 2."""
    video = tmp_path / "ep.mkv"
    video.write_bytes(b"\x1a\x45\xdf\xa3 not much of a video")
    for key, value in {"DUBSET_S3_ENDPOINT": "http://127.0.0.1:9", "DUBSET_S3_BUCKET": "b",
                       "DUBSET_S3_ACCESS_KEY": "k" * 16, "DUBSET_S3_SECRET_KEY": "s" * 16,
                       "DUBSET_S3_MAX_ATTEMPTS": "1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    args = ["dub", "--video", str(video), "--submit", "--server", "127.0.0.1:9",
            "--out", str(tmp_path / "out.mkv")]  # fmt: skip
    assert dubset(args) == 2
    err = capsys.readouterr().err
    assert "http://127.0.0.1:9" in err and "s" * 16 not in err
    assert not (tmp_path / "out.mkv").exists()
