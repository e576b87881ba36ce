"""The cutter on a synthetic video: spans kept, decodable, byte-identical, deterministic argv."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dubset_common.ffmpeg import Tools
from dubset_packaging import cutter
from dubset_packaging.core.batches import Batch
from dubset_packaging.core.model import PackagingInputError, Span
from dubset_packaging.cutter import CutRequest, Encoding, batch_argv, batch_timeout_s, cut_clips

FRAME_MS = 1001 / 24
SPANS = [Span(300, 1800), Span(2000, 2450), Span(5010, 7777)]


def _cut(episode: dict[str, Path], out: Path, video: bool) -> list[CutRequest]:
    out.mkdir()
    reqs = [
        CutRequest(s, out / f"{i}.mp3", out / f"{i}.mp4" if video else None)
        for i, s in enumerate(SPANS)
    ]
    seen: list[float] = []
    files = cut_clips(Tools().resolve(), episode["en_video"], 1, 1, reqs, Encoding(),
                      lambda f, m: seen.append(f))  # fmt: skip
    assert seen[-1] == 1.0
    for span, cut in zip(SPANS, files, strict=True):
        audio = cut[0]
        assert audio.kind == "audio" and audio.codec == "mp3"
        assert abs(audio.duration_ms - span.duration_ms) <= 30
        if video:
            assert cut[1].codec == "h264+aac"
            assert abs(cut[1].duration_ms - span.duration_ms) <= FRAME_MS + 30
    return reqs


def _probe(path: Path) -> str:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,height",
         "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout


def test_clips_keep_their_spans_decode_and_are_byte_identical_on_a_rerun(
    episode: dict[str, Path], tmp_path: Path
) -> None:
    first = _cut(episode, tmp_path / "a", video=True)
    again = _cut(episode, tmp_path / "b", video=True)
    for r1, r2 in zip(first, again, strict=True):
        assert r1.audio.read_bytes() == r2.audio.read_bytes()
        assert r1.video is not None and r2.video is not None
        assert r1.video.read_bytes() == r2.video.read_bytes()
    assert _probe(first[0].audio).strip() == "mp3,44100"
    assert _probe(first[0].video).split() == ["h264,240", "aac,48000"]  # type: ignore[arg-type]
    assert b"x264 - core" not in first[0].video.read_bytes()  # type: ignore[union-attr]


def test_one_ffmpeg_per_batch_seeks_once_and_strips_metadata(tmp_path: Path) -> None:
    reqs = [CutRequest(s, tmp_path / f"{i}.mp3", tmp_path / f"{i}.mp4") for i, s in
            enumerate(SPANS)]  # fmt: skip
    src = tmp_path / "src.mp4"
    src.write_bytes(b"x")
    argv = batch_argv(Tools(), src, 1, 2, Batch(300, 7777, (0, 1, 2)), reqs, Encoding())
    assert argv.count("-i") == 1 and argv[argv.index("-ss") + 1] == "0.300"
    graph = argv[argv.index("-filter_complex") + 1]
    assert "asplit=6" in graph and "split=3" in graph
    assert "atrim=start=4.710:end=7.477" in graph
    assert argv.count("-map_metadata") == 6 and argv.count("+bitexact") >= 6
    threads = [argv[i + 1] for i, a in enumerate(argv) if a == "-threads"]
    assert threads == ["1"] * 6  # fixed encoder threads: the same bytes on any machine


def test_the_ffmpeg_time_limit_grows_with_the_media_of_the_batch() -> None:
    short, long = batch_timeout_s(10_000, video=False), batch_timeout_s(600_000, video=False)
    assert 120 <= short < long and batch_timeout_s(600_000, video=True) > long


def test_batches_cut_at_once_give_the_bytes_cut_one_at_a_time(
    episode: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cutter, "MAX_AUDIO_BATCH", 1)  # one batch per clip: three batches
    tools = Tools().resolve()
    runs = {}
    for workers in (1, 2):
        out = tmp_path / str(workers)
        out.mkdir()
        reqs = [CutRequest(s, out / f"{i}.mp3") for i, s in enumerate(SPANS)]
        seen: list[float] = []
        files = cut_clips(tools, episode["en_video"], 1, 1, reqs, Encoding(),
                          lambda f, m, seen=seen: seen.append(f), workers=workers)  # fmt: skip
        assert seen == sorted(seen) and seen[-1] == 1.0  # progress in batch order
        assert [f[0].path for f in files] == [r.audio for r in reqs]
        runs[workers] = [r.audio.read_bytes() for r in reqs]
    assert runs[1] == runs[2]


def test_a_failing_batch_fails_the_cut_naming_its_stretch(
    episode: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cutter, "MAX_AUDIO_BATCH", 1)
    reqs = [CutRequest(s, tmp_path / f"{i}.mp3") for i, s in enumerate(SPANS)]
    reqs[1] = CutRequest(SPANS[1], tmp_path / "missing" / "1.mp3")  # its folder does not exist
    with pytest.raises(PackagingInputError, match=r"cutting 2\.000-2\.450 s failed"):
        cut_clips(Tools().resolve(), episode["en_video"], 1, 1, reqs, Encoding(),
                  lambda f, m: None, workers=2)  # fmt: skip
