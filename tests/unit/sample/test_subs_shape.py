"""`dubset sample --shape subs`: subtitle side files and MKV subtitle streams, timed like real
subtitles (a lead before each line, a trail after it) on the timeline of their release."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from dubset_common.subtitles import Cue, parse
from dubset_sample.generate import SampleOptions, generate
from dubset_sample.shapes import parse_shapes
from dubset_sample.subs import LEAD_MS, TRAIL_MS, cue_spans, draws

SIDE_FILES = ("en.ass", "en.srt", "ja.srt")


def options(out: Path) -> SampleOptions:
    """A card in the EN release, the JA intro 0.9 s longer: three timelines that all differ."""
    return SampleOptions(out=out, seconds=14, characters=2, seed=5, ja_offset_ms=900,
                         shapes=("subs,dual-mkv,card",))  # fmt: skip


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("subs")
    generate(options(out))
    return out


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def ceil10(ms: int) -> int:
    return -(-ms // 10) * 10


def floor10(ms: int) -> int:
    return ms // 10 * 10


def check_cues(cues: list[tuple[int, int]], lines: list[tuple[int, int]], duration_ms: int) -> None:
    """Cue i covers line i with a lead and trail in range, on the centisecond grid, inside the
    video; a shorter lead or trail only where a neighbour, an overlapping line or the video's
    edge trims it; cues overlap only where their lines do (on the centisecond grid)."""
    assert len(cues) == len(lines)
    order = sorted(range(len(lines)), key=lambda i: (lines[i][0], i))
    for k, i in enumerate(order):
        (start, end), (line_start, line_end) = cues[i], lines[i]
        assert start % 10 == 0 and end % 10 == 0
        assert 0 <= start <= line_start and line_end <= end <= duration_ms
        lead, trail = line_start - start, end - line_end
        assert lead <= LEAD_MS[1] and trail <= TRAIL_MS[1]
        before = [cues[j][1] for j in order[:k]]
        after = [cues[j][0] for j in order[k + 1 :]]
        overlapped = any(ceil10(lines[j][1]) > floor10(line_start) for j in order[:k]) or any(
            floor10(lines[j][0]) < ceil10(line_end) for j in order[k + 1 :]
        )
        if lead < LEAD_MS[0]:
            assert start == 0 or start in before or overlapped, (i, lead)
        if trail < TRAIL_MS[0]:
            assert end == duration_ms - duration_ms % 10 or end in after or overlapped, (i, trail)
    for k, a in enumerate(order):
        for b in order[k + 1 :]:
            if cues[a][1] > cues[b][0]:
                assert ceil10(lines[a][1]) > floor10(lines[b][0]), (a, b)


def spans_of(truth: dict, lang: str) -> list[tuple[int, int]]:
    return [(ln[lang]["start_ms"], ln[lang]["end_ms"]) for ln in truth["lines"]]


def check_file(cues: tuple[Cue, ...], entry: dict, truth: dict, lang: str) -> None:
    """The cues of one subtitle file against the truth whose timeline they are on."""
    assert entry["lines"] == sorted(
        entry["lines"], key=lambda i: truth["lines"][i][lang]["start_ms"]
    )
    assert sorted(entry["lines"]) == list(range(len(truth["lines"])))
    for cue, index in zip(cues, entry["lines"], strict=True):
        assert truth["lines"][index][lang]["text"] in cue.text
    spans = spans_of(truth, lang)
    times = [(0, 0)] * len(spans)
    for cue, index in zip(cues, entry["lines"], strict=True):
        times[index] = (cue.start_ms, cue.end_ms)
    check_cues(times, spans, truth["duration_ms"][lang])


def test_cue_spans_keep_their_rules_on_random_scripts() -> None:
    rng = random.Random(11)
    for trial in range(300):
        spans, t = [], rng.randint(0, 600)
        for _ in range(rng.randint(1, 12)):
            length = rng.randint(300, 4000)
            spans.append((t, t + length))
            gap = rng.choice([rng.randint(30, 1200), rng.randint(1, 9), -rng.randint(1, 300)])
            t = max(t + 1, t + length + gap)
        duration = max(end for _, end in spans) + rng.choice([40, 700, 1500])
        check_cues(cue_spans(spans, duration, draws(len(spans), trial, "en")), spans, duration)


def test_cue_spans_trim_at_neighbours_overlaps_and_the_video_edges() -> None:
    drawn = [(441, 791)] * 3  # the longest lead and trail
    assert cue_spans([(200, 900)], 1000, drawn[:1]) == [(0, 1000)]  # clipped at both edges
    # 300 ms apart: the earlier cue ends where the later one starts, both lines covered.
    (a, b) = cue_spans([(1000, 2000), (2300, 3000)], 9000, drawn[:2])
    assert a == (550, 2000) and b == (2000, 3800)
    # Overlapping speech: each cue spans its line, no lead or trail into the other.
    (a, b) = cue_spans([(1000, 3004), (2507, 4000)], 9000, drawn[:2])
    assert a == (550, 3010) and b == (2500, 4800)
    # A line inside another keeps the outer cue on until the outer line ends.
    cues = cue_spans([(1000, 6000), (2000, 3000), (6500, 7000)], 9000, drawn)
    assert cues == [(550, 6000), (2000, 3800), (6050, 7800)]
    assert draws(4, 1, "en") == draws(4, 1, "en") != draws(4, 1, "ja")


def test_subs_is_a_shape_that_combines() -> None:
    assert parse_shapes(["subs,card", "dual-mkv"]) == ("dual-mkv", "card", "subs")


@pytest.mark.slow
def test_side_files_on_their_releases_timelines(episode: Path) -> None:
    truth = read_json(episode / "truth.json")
    card = truth["release"]["en"]["card"]
    assert any(ln["en"]["start_ms"] >= card["end_ms"] for ln in truth["lines"])  # card shifts
    entries = {e["file"]: e for e in truth["release"]["subtitles"]["files"]}
    assert list(entries) == list(SIDE_FILES)
    cues = {name: parse((episode / name).read_bytes(), name) for name in SIDE_FILES}
    for name, lang, video in (("en.ass", "en", "en.mp4"), ("en.srt", "en", "en.mp4"),
                              ("ja.srt", "ja", "ja.mp4")):  # fmt: skip
        assert entries[name]["lang"] == lang and entries[name]["video"] == video
        assert entries[name]["format"] == name.rsplit(".", 1)[1]
        check_file(cues[name], entries[name], truth, lang)
    # The SRT holds the ASS's cues (times and text), without actors.
    strip = [(c.start_ms, c.end_ms, c.text) for c in cues["en.ass"]]
    assert strip == [(c.start_ms, c.end_ms, c.text) for c in cues["en.srt"]]
    # Real subtitles are not the truth: leads and trails vary.
    order = entries["en.ass"]["lines"]
    lines = [truth["lines"][i]["en"] for i in order]
    leads = {line["start_ms"] - c.start_ms for line, c in zip(lines, cues["en.ass"], strict=True)}
    assert len(leads) > 1


@pytest.mark.slow
def test_ass_actor_is_the_speaking_character(episode: Path) -> None:
    truth = read_json(episode / "truth.json")
    names = {c["id"]: c["name"] for c in truth["characters"]}
    entry = truth["release"]["subtitles"]["files"][0]
    cues = parse((episode / "en.ass").read_bytes())
    actors = [cue.actor for cue in cues]
    assert actors == [names[truth["lines"][i]["speaker"]] for i in entry["lines"]]
    assert len(set(actors)) == 2
    assert all(not c.actor for c in parse((episode / "ja.srt").read_bytes()))


def probe_subtitles(path: Path) -> list[dict]:
    raw = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(raw)["streams"]


def mkv_cues(path: Path, index: int) -> tuple[Cue, ...]:
    """Subtitle stream s:index of the MKV: text and actors from its ASS, times (ms) from its
    packets, counted from the first video frame. ffmpeg's Matroska muxer starts every stream
    late by the AAC encoder's delay (1024 samples, 21 ms): the picture, the sound as decoded
    and the subtitles alike; the JA video's time 0 is the video stream's start."""
    ass = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:s:{index}",
         "-c", "copy", "-f", "ass", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    raw = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=index,codec_type,start_pts,time_base",
         "-show_entries", "packet=stream_index,pts,duration", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    probed = json.loads(raw)
    streams = probed["streams"]
    assert all(s["time_base"] == "1/1000" for s in streams)
    video = next(s for s in streams if s["codec_type"] == "video")
    wanted = [s["index"] for s in streams if s["codec_type"] == "subtitle"][index]
    packets = [p for p in probed["packets"] if p["stream_index"] == wanted]
    zero = int(video["start_pts"])
    assert 0 <= zero <= 25
    cues = parse(ass)
    assert len(packets) == len(cues)
    out = []
    for cue, packet in zip(cues, sorted(packets, key=lambda p: int(p["pts"])), strict=True):
        start = int(packet["pts"]) - zero
        assert abs(cue.start_ms - zero - start) <= 5  # the ASS export rounds to centiseconds
        out.append(Cue(start, start + int(packet["duration"]), cue.text, cue.actor, cue.style))
    return tuple(out)


@pytest.mark.slow
def test_mkv_subtitle_streams_after_the_audio(episode: Path) -> None:
    streams = probe_subtitles(episode / "episode.mkv")
    kinds = [s["codec_type"] for s in streams]
    assert kinds == ["video", "audio", "audio", "audio", "subtitle", "subtitle"]
    full, signs = streams[4], streams[5]
    for s, title in ((full, "English"), (signs, "Signs & Songs")):
        assert s["codec_name"] == "ass"
        assert s["tags"]["language"] == "eng" and s["tags"]["title"] == title
    assert full["disposition"]["forced"] == 0 and full["disposition"]["default"] == 1
    assert signs["disposition"]["forced"] == 1 and signs["disposition"]["default"] == 0


@pytest.mark.slow
def test_mkv_english_cues_are_on_the_ja_timeline(episode: Path) -> None:
    truth = read_json(episode / "episode.truth.json")
    assert truth["release"] == read_json(episode / "truth.json")["release"]
    entries = truth["release"]["subtitles"]["streams"]
    assert [(e["stream"], e["title"], e["role"]) for e in entries] == [
        ("s:0", "English", "full"), ("s:1", "Signs & Songs", "signs")
    ]  # fmt: skip
    cues = mkv_cues(episode / "episode.mkv", 0)
    check_file(cues, entries[0], truth, "en")  # EN times of the MKV = plain EN + ja_offset_ms
    names = {c["id"]: c["name"] for c in truth["characters"]}
    assert [c.actor for c in cues] == [
        names[truth["lines"][i]["speaker"]] for i in entries[0]["lines"]
    ]
    (sign,) = mkv_cues(episode / "episode.mkv", 1)
    assert entries[1]["lines"] == [None]
    assert [{"start_ms": sign.start_ms, "end_ms": sign.end_ms, "text": sign.text}] == entries[1][
        "signs"
    ]
    assert sign.style == "Signs" and sign.end_ms - sign.start_ms >= 1500
    assert sign.start_ms >= 0 and sign.end_ms <= truth["duration_ms"]["ja"]


@pytest.mark.slow
def test_same_seed_same_subtitle_bytes(episode: Path, tmp_path: Path) -> None:
    generate(options(tmp_path))
    for name in (*SIDE_FILES, "episode.mkv", "truth.json", "episode.truth.json"):
        assert (episode / name).read_bytes() == (tmp_path / name).read_bytes(), name
