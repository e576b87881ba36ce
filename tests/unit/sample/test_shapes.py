"""`dubset sample --shape`: shaped releases checked with ffprobe and against their truth."""

from __future__ import annotations

import argparse
import json
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_cli import sample as sample_cli
from dubset_sample.generate import SampleError, SampleOptions, generate
from dubset_sample.shapes import CARD_MS, PAL_TIME, SURROUND_LAYOUT
from dubset_sample.timemap import TimeMap

pytestmark = pytest.mark.slow

ALL = ("pal,card", "surround", "dual-mkv")
RATE = 48000


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every shape at once (pal with pitch correction), the JA intro 1.2 s longer."""
    out = tmp_path_factory.mktemp("shaped")
    generate(SampleOptions(out=out, seconds=16, characters=2, seed=3, ja_offset_ms=1200,
                           shapes=ALL))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def pitch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A card and a resampled (exactly timed) PAL speed-up, the EN intro 0.7 s longer."""
    out = tmp_path_factory.mktemp("pitch")
    generate(SampleOptions(out=out, seconds=12, characters=2, seed=5, ja_offset_ms=-700,
                           shapes=("card", "pal-pitch")))  # fmt: skip
    return out


def truth_of(out: Path) -> dict:
    return json.loads((out / "truth.json").read_text())


def probe(path: Path) -> dict:
    raw = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(raw)


def decode(path: Path, stream: str, channels: int) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:{stream}",
         "-f", "f32le", "-ac", str(channels), "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def load(path: Path) -> np.ndarray:
    audio, _ = sf.read(path, dtype="float32")
    return audio


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def speech_outside(audio: np.ndarray, spans: list[tuple[int, int]], pad_ms: int) -> float:
    mask = np.zeros(len(audio), bool)
    for a, b in spans:
        mask[max(0, (a - pad_ms) * RATE // 1000) : (b + pad_ms) * RATE // 1000] = True
    return float(np.max(np.abs(audio[~mask]), initial=0.0))


def test_truth_names_the_release_and_its_time_map(full: Path) -> None:
    truth = truth_of(full)
    release = truth["release"]
    assert release["shapes"] == ["dual-mkv", "surround", "card", "pal"]
    assert release["files"] == {"ja": "ja.mp4", "en": "en.mp4", "mkv": "episode.mkv"}
    assert all((full / name).is_file() for name in release["files"].values())
    card = release["en"]["card"]
    tm = TimeMap.from_truth(truth)
    assert [list(s) for s in tm.en_only] == [[card["start_ms"], card["end_ms"]]]
    assert card["end_ms"] - card["start_ms"] == pytest.approx(CARD_MS * float(PAL_TIME), abs=1)
    assert tm.ja_only == ((0, 1200),) and len(tm.pieces) == 2
    assert release["en"]["speed"] == {"factor": "1001/960", "pitch_corrected": True}
    # A clip pair is one moment in both releases: its JA span maps onto its EN span.
    for pair in truth["pairs"]:
        for end in ("start_ms", "end_ms"):
            assert tm.apply_map(pair[f"ja_{end}"]) == pytest.approx(pair[f"en_{end}"], abs=1.5)
    # The card sits between two lines, and every EN time avoids it.
    for line in truth["lines"]:
        en = line["en"]
        assert en["end_ms"] <= card["start_ms"] or en["start_ms"] >= card["end_ms"]
    shots = truth["shots"]["en"]
    assert shots[0]["start_ms"] == 0 and shots[-1]["end_ms"] == truth["duration_ms"]["en"]
    assert all(a["end_ms"] == b["start_ms"] for a, b in pairwise(shots))
    cards = [s for s in shots if s["start_ms"] == card["start_ms"]]
    assert cards and cards[0]["end_ms"] == card["end_ms"] and cards[0]["motion"] == "title"


def test_en_mp4_is_25_fps_with_51_aac(full: Path) -> None:
    truth = truth_of(full)
    info = probe(full / "en.mp4")
    video, audio = (
        next(s for s in info["streams"] if s["codec_type"] == k) for k in ("video", "audio")
    )
    assert video["codec_name"] == "h264" and video["r_frame_rate"] == "25/1"
    assert audio["codec_name"] == "aac" and audio["channels"] == 6
    assert audio["channel_layout"] == "5.1"
    seconds = truth["duration_ms"]["en"] / 1000
    assert float(info["format"]["duration"]) == pytest.approx(seconds, abs=0.1)
    assert float(audio["duration"]) == pytest.approx(seconds, abs=0.05)
    ja = probe(full / "ja.mp4")
    assert ja["streams"][0]["r_frame_rate"] == "24000/1001"


def test_surround_channels_hold_the_stems(full: Path) -> None:
    truth = truth_of(full)
    dialogue, backing = (load(full / truth["stems"]["en"][k]) for k in ("dialogue", "backing"))
    decoded = decode(full / "en.mp4", "a:0", 6)
    ch = {name: decoded[:, i] for i, name in enumerate(SURROUND_LAYOUT)}
    lag = 1024  # the AAC priming, should a demuxer leave it in
    best = max(range(0, 2 * lag), key=lambda k: corr(ch["FC"][k:], dialogue))
    assert corr(ch["FC"][best:], dialogue) > 0.95
    assert corr(ch["FL"][best:], backing) > 0.9 and corr(ch["FR"][best:], backing) > 0.9
    assert rms(ch["FL"]) == pytest.approx(0.7 * rms(backing), rel=0.1)
    assert 0 < rms(ch["LFE"]) < rms(ch["FL"]) and 0 < rms(ch["BL"]) < rms(ch["FL"])
    assert abs(corr(ch["FL"][best:], dialogue)) < 0.1  # no dialogue in the bed channels


def test_en_stems_follow_the_card_and_the_speed_up(full: Path) -> None:
    truth = truth_of(full)
    dialogue, backing = (load(full / truth["stems"]["en"][k]) for k in ("dialogue", "backing"))
    assert len(dialogue) == len(backing) == truth["duration_ms"]["en"] * RATE // 1000
    spans = [(ln["en"]["start_ms"], ln["en"]["end_ms"]) for ln in truth["lines"]]
    for a, b in spans:  # atempo moves sound by up to a few tens of ms locally
        assert rms(dialogue[(a + 40) * RATE // 1000 : (b - 40) * RATE // 1000]) > 0.02
    assert speech_outside(dialogue, spans, pad_ms=60) < 0.01
    card = truth["release"]["en"]["card"]
    a, b = card["start_ms"] * RATE // 1000, card["end_ms"] * RATE // 1000
    assert not np.any(dialogue[a + RATE // 20 : b - RATE // 20])
    sting = card["sting_ms"] * RATE // 1000
    assert (
        rms(backing[a : a + sting]) > 0.02
        and rms(backing[a + sting + RATE // 10 : b - 2400]) < 1e-4
    )


def test_mkv_tracks_languages_titles_dispositions(full: Path) -> None:
    truth = truth_of(full)
    info = probe(full / "episode.mkv")
    streams = info["streams"]
    assert [s["codec_type"] for s in streams] == ["video", "audio", "audio", "audio"]
    assert streams[0]["codec_name"] == "h264" and streams[0]["r_frame_rate"] == "24000/1001"
    audio = streams[1:]
    assert [s["tags"]["language"] for s in audio] == ["jpn", "eng", "eng"]
    assert [s["tags"]["title"] for s in audio] == ["Japanese 2.0", "English 5.1", "Commentary"]
    assert [s["disposition"]["default"] for s in audio] == [1, 0, 0]
    assert [s["disposition"]["comment"] for s in audio] == [0, 0, 1]
    assert [s["channel_layout"] for s in audio] == ["stereo", "5.1", "stereo"]
    assert float(info["format"]["duration"]) == pytest.approx(
        truth["duration_ms"]["ja"] / 1000, abs=0.1
    )
    tracks = truth["release"]["mkv"]["tracks"]
    assert [t["title"] for t in tracks] == ["Japanese 2.0", "English 5.1", "Commentary"]
    assert truth["release"]["mkv"]["en_timeline"] == "ja"


def test_mkv_english_is_on_the_ja_timeline_and_commentary_is_not_the_mix(full: Path) -> None:
    truth = truth_of(full)
    tm = TimeMap.from_truth(truth)
    centre = decode(full / "episode.mkv", "a:1", 6)[:, 2]
    spans = []
    for line in truth["lines"]:  # each EN line, through the map, onto the JA video's timeline
        a, b = (tm.inverse_map(line["en"][k]) for k in ("start_ms", "end_ms"))
        assert a is not None and b is not None
        spans.append((round(a), round(b)))
        assert rms(centre[round(a + 60) * RATE // 1000 : round(b - 60) * RATE // 1000]) > 0.02
    assert speech_outside(centre, spans, pad_ms=120) < 0.02
    main = decode(full / "episode.mkv", "a:1", 2).mean(axis=1)
    comment = decode(full / "episode.mkv", "a:2", 2).mean(axis=1)
    assert abs(corr(main, comment)) < 0.5 and rms(comment) > 0.01


def test_pal_pitch_and_card_are_timed_exactly(pitch: Path) -> None:
    truth = truth_of(pitch)
    release = truth["release"]
    assert release["shapes"] == ["card", "pal-pitch"] and "mkv" not in release["files"]
    assert release["en"]["speed"]["pitch_corrected"] is False
    assert release["en"]["channel_layout"] == "mono" and release["en"]["surround"] is None
    tm = TimeMap.from_truth(truth)
    assert tm.en_only[0] == (0, round(700 * float(PAL_TIME)))  # the EN-only intro, sped up
    dialogue = load(pitch / "en_dialogue.wav")
    spans = [(ln["en"]["start_ms"], ln["en"]["end_ms"]) for ln in truth["lines"]]
    assert speech_outside(dialogue, spans, pad_ms=3) < 0.003  # resampling rings a little
    for a, b in spans:
        assert rms(dialogue[a * RATE // 1000 : b * RATE // 1000]) > 0.02
    info = probe(pitch / "en.mp4")
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert kinds["video"]["r_frame_rate"] == "25/1" and kinds["audio"]["channels"] == 1
    assert float(info["format"]["duration"]) == pytest.approx(
        truth["duration_ms"]["en"] / 1000, abs=0.1
    )


def test_same_seed_and_shapes_same_bytes(full: Path, tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, seconds=16, characters=2, seed=3, ja_offset_ms=1200,
                           shapes=("dual-mkv,surround", "card", "pal")))  # fmt: skip
    names = sorted(p.name for p in full.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (full / name).read_bytes() == (tmp_path / name).read_bytes(), name


@pytest.mark.parametrize(
    ("shapes", "message"),
    [(["vhs"], "unknown --shape vhs"), (["pal,pal-pitch"], "exclude each other")],
)
def test_bad_shapes_exit_2_with_a_message(
    shapes: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    sample_cli.register(parser.add_subparsers())
    argv = ["sample", "--out", str(tmp_path / "x")] + [f"--shape={s}" for s in shapes]
    args = parser.parse_args(argv)
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "dubset sample:" in err and message in err
    assert not (tmp_path / "x").exists()
    with pytest.raises(SampleError, match=message):
        SampleOptions(out=tmp_path, seconds=10, shapes=tuple(shapes)).validate()
