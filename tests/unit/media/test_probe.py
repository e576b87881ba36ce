"""Probe, validation and extraction on small files made with ffmpeg, hostile ones included."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_media.core.model import MediaInputError, StreamInfo
from dubset_media.core.probe import check_episode, parse_ffprobe
from dubset_media.core.tracks import select_track
from dubset_media.ffmpeg import Tools, probe
from dubset_media.handler import extract, inspect

from .conftest import ffmpeg


def test_video_with_audio_is_accepted(av_file: Path, tools: Tools) -> None:
    info = inspect(av_file, tools)
    assert info.container.startswith("mov")
    assert 3900 <= info.duration_ms <= 4100
    video, audio = info.of_kind("video")[0], info.of_kind("audio")[0]
    assert (video.codec, video.width, video.height) == ("h264", 64, 48)
    assert (audio.codec, audio.channels, audio.sample_rate_hz) == ("aac", 2, 48000)
    assert audio.language == "jpn"
    assert select_track(info, "ja").index == audio.index


def test_audio_only_and_video_only_are_refused(tmp_path: Path, tools: Tools) -> None:
    audio = tmp_path / "audio.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-c:a", "aac", str(audio))
    with pytest.raises(MediaInputError, match="no video stream"):
        inspect(audio, tools)
    video = tmp_path / "video.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=3", str(video))
    with pytest.raises(MediaInputError, match="no audio stream"):
        inspect(video, tools)
    with pytest.raises(MediaInputError, match="no audio stream"):
        select_track(probe(video, tools), "ja")


def test_too_short_is_refused(tmp_path: Path, tools: Tools) -> None:
    short = tmp_path / "short.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=0.5",
           "-f", "lavfi", "-i", "sine=duration=0.5", "-shortest", str(short))  # fmt: skip
    with pytest.raises(MediaInputError, match="shorter than 1000 ms"):
        inspect(short, tools)


def test_empty_text_and_truncated_files_are_refused(
    tmp_path: Path, tools: Tools, av_file: Path
) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaInputError, match="empty file"):
        inspect(empty, tools)
    text = tmp_path / "notes.mp4"
    text.write_text("just some words, not a video\n" * 20)
    with pytest.raises(MediaInputError, match="not a readable media file"):
        inspect(text, tools)
    data = av_file.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaInputError, match=r"truncated|not a readable|does not decode"):
        info = inspect(cut, tools)
        extract(cut, info, select_track(info, "ja"), tmp_path / "cut.wav", tools)
    with pytest.raises(MediaInputError, match="not a regular file"):
        inspect(tmp_path, tools)


def _trap(tmp_path: Path) -> tuple[Path, socket.socket]:
    """A FIFO (opening it for reading blocks until a writer comes) and a listening socket."""
    fifo = tmp_path / "secret.ts"
    os.mkfifo(fifo)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    return fifo, server


def _nobody_connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize("name", ["list.m3u8", "list.mp4"])
def test_hls_playlist_is_refused_without_reading_what_it_names(
    tmp_path: Path, tools: Tools, name: str
) -> None:
    fifo, server = _trap(tmp_path)
    port = server.getsockname()[1]
    playlist = tmp_path / name
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:5,\nfile:{fifo}\n#EXTINF:5,\n{fifo}\n"
        f"#EXTINF:5,\nhttp://127.0.0.1:{port}/a.ts\n#EXTINF:5,\nhttp://127.0.0.1:9/b.ts\n"
        "#EXT-X-ENDLIST\n"
    )
    started = time.monotonic()
    with pytest.raises(MediaInputError, match="playlists, lists and sequences are refused"):
        inspect(playlist, tools)
    with pytest.raises(MediaInputError):
        stream = StreamInfo(0, "audio", "aac", channels=2, sample_rate_hz=48000)
        extract(playlist, parse_ffprobe(b'{"format": {}}', 1), stream, tmp_path / "o.wav", tools)
    # Had ffprobe opened the FIFO it would have blocked until the probe timeout.
    assert time.monotonic() - started < 10
    assert _nobody_connected(server)
    server.close()


def test_concat_list_is_refused_without_reading_what_it_names(
    tmp_path: Path, tools: Tools, av_file: Path
) -> None:
    fifo, server = _trap(tmp_path)
    port = server.getsockname()[1]
    listing = tmp_path / "list.ffconcat"
    listing.write_text(
        "ffconcat version 1.0\n"
        f"file 'file:{fifo}'\nfile '{av_file}'\nfile 'http://127.0.0.1:{port}/x.mp4'\n"
    )
    started = time.monotonic()
    with pytest.raises(MediaInputError, match="refused"):
        inspect(listing, tools)
    assert time.monotonic() - started < 10
    assert _nobody_connected(server)
    server.close()


def test_referencing_formats_are_refused_by_name_too() -> None:
    report = json.dumps({"format": {"format_name": "hls", "duration": "5"}, "streams": []})
    with pytest.raises(MediaInputError, match="hls inputs refer to other files"):
        parse_ffprobe(report.encode(), 100)
    info = parse_ffprobe(b'{"format": {"format_name": "matroska,webm", "duration": "18000"}}', 1)
    with pytest.raises(MediaInputError, match="no video stream"):
        check_episode(info)


def test_five_one_audio_is_downmixed_to_16k_mono(tmp_path: Path, tools: Tools) -> None:
    src = tmp_path / "surround.mkv"
    # A 1 kHz tone in front-left only, silence elsewhere, plus video.
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=3",
        "-f", "lavfi", "-i", "sine=f=1000:sample_rate=48000:duration=3",
        "-filter_complex", "[1:a]pan=5.1|FL=c0|FR=0*c0|FC=0*c0|LFE=0*c0|BL=0*c0|BR=0*c0[a]",
        "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-c:a", "ac3", str(src),
    )  # fmt: skip
    info = inspect(src, tools)
    assert info.of_kind("audio")[0].channels == 6
    track = select_track(info, "en")
    done = extract(src, info, track, tmp_path / "out.wav", tools)
    assert (done.sample_rate_hz, done.channels) == (16000, 1)
    audio, rate = sf.read(done.path, dtype="float32")
    assert rate == 16000 and audio.ndim == 1 and abs(len(audio) - 48000) < 1600
    spectrum = np.abs(np.fft.rfft(audio[4000:36000]))
    assert abs(np.argmax(spectrum) * rate / 32000 - 1000) < 5
    stereo = extract(src, info, track, tmp_path / "st.wav", tools, sample_rate_hz=22050, channels=2)
    assert (stereo.sample_rate_hz, stereo.channels) == (22050, 2)
    again = extract(src, info, track, tmp_path / "again.wav", tools)
    assert again.path.read_bytes() == done.path.read_bytes()


def test_stream_choice(av_file: Path, tools: Tools, tmp_path: Path) -> None:
    info = probe(av_file, tools)
    with pytest.raises(MediaInputError, match="stream #0 is video"):
        select_track(info, "ja", index=0)
    with pytest.raises(MediaInputError, match="there is no stream #7"):
        select_track(info, "ja", index=7)
    assert select_track(info, "en").index == 1  # a file of one language: its only audio track


def test_an_episode_longer_than_the_configured_limit_is_refused_naming_the_setting() -> None:
    from dubset_common.config import load_settings
    from dubset_media.worker import limits_from

    report = {
        "format": {"format_name": "mov,mp4", "duration": "10800.0"},
        "streams": [
            {"index": 0, "codec_type": "video", "codec_name": "h264", "width": 64, "height": 48},
            {"index": 1, "codec_type": "audio", "codec_name": "aac", "sample_rate": "48000",
             "channels": 2},
        ],
    }  # fmt: skip
    info = parse_ffprobe(json.dumps(report).encode(), 1000)
    local = {"DUBSET_BUS": "inproc", "DUBSET_STORE": "local"}
    limits = limits_from(load_settings("media", local))
    assert limits.max_duration_ms == 9_000_000
    with pytest.raises(MediaInputError, match=r"10800000 ms is longer .*MAX_DURATION_S"):
        check_episode(info, limits)
    longer = limits_from(load_settings("media", local | {"DUBSET_MEDIA_MAX_DURATION_S": "14400"}))
    check_episode(info, longer)
