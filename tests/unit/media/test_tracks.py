"""Track choice: which audio track is the Japanese original and which the English dub."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, media_pb2
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_media.core.downmix import pan_filter
from dubset_media.core.model import MediaInfo, MediaInputError, StreamInfo
from dubset_media.core.tracks import select_pair, select_track
from dubset_media.ffmpeg import Tools, probe
from dubset_media.handler import MediaStage, extract

from .conftest import INTRO_MS, Episode, ffmpeg


def audio(index: int, language: str = "", title: str = "", **kw: object) -> StreamInfo:
    channels = kw.pop("channels", 2)
    return StreamInfo(index, "audio", "aac", language, title, channels=channels, **kw)  # type: ignore[arg-type]


def release(*tracks: StreamInfo) -> MediaInfo:
    return MediaInfo("matroska,webm", 60_000, 1, 0, (StreamInfo(0, "video", "h264"), *tracks))


DUAL = release(
    audio(1, "jpn", "Japanese 2.0", is_default=True),
    audio(2, "eng", "English 5.1", channels=6),
    audio(3, "eng", "Commentary", is_commentary=True),
)


def test_a_dual_audio_release_gives_the_tagged_main_mixes() -> None:
    ja, en = select_pair(DUAL)
    assert (ja.index, en.index) == (1, 2)


def test_commentary_by_title_alone_is_not_the_main_mix() -> None:
    info = release(audio(1, "ja"), audio(2, "EN", "Director's commentary"), audio(3, "english"))
    assert [s.index for s in select_pair(info)] == [1, 3]


def test_default_then_channels_break_ties() -> None:
    info = release(audio(1, "jpn"), audio(2, "eng", is_default=True), audio(3, "eng", channels=6))
    assert select_track(info, "en").index == 2
    info = release(audio(1, "jpn"), audio(2, "eng"), audio(3, "eng", channels=6))
    assert select_track(info, "en").index == 3


def test_an_untagged_track_titled_with_the_language_counts() -> None:
    info = release(audio(1, "", "Japanese"), audio(2, "", "English Dub"))
    assert [s.index for s in select_pair(info)] == [1, 2]


def test_the_override_wins_over_the_tags() -> None:
    assert select_pair(DUAL, en_index=3)[1].index == 3


@pytest.mark.parametrize(
    ("info", "ja", "en", "needle"),
    [
        (release(audio(1, "jpn")), None, None, "single audio track"),
        (release(audio(1, "jpn"), audio(2, "eng"), audio(3, "eng")), None, None, "equally likely"),
        (release(audio(1), audio(2)), None, None, "no audio track is tagged Japanese"),
        (DUAL, None, 9, "there is no stream #9"),
        (DUAL, 0, None, "stream #0 is video"),
        (DUAL, 1, 1, "both #1"),
    ],
)
def test_what_cannot_be_told_apart_fails_listing_the_tracks(
    info: MediaInfo, ja: int | None, en: int | None, needle: str
) -> None:
    with pytest.raises(MediaInputError, match=needle) as caught:
        select_pair(info, ja, en)
    message = str(caught.value)
    assert ("#1 " in message and "--ja-track" in message) or "--en-track" in message


def test_a_file_of_one_language_may_leave_its_only_track_untagged() -> None:
    assert select_track(release(audio(4)), "en").index == 4
    with pytest.raises(MediaInputError, match="2 audio tracks and no language"):
        select_track(release(audio(1), audio(2)), "")


def test_surround_is_mixed_down_with_the_centre_forward() -> None:
    five_one = audio(1, channels=6, channel_layout="5.1(side)")
    assert pan_filter(five_one, 1) == "pan=mono|c0=0.2*c0+0.2*c1+0.5*c2+0.05*c4+0.05*c5"
    assert pan_filter(five_one, 2) == "pan=stereo|c0=0.4*c0+0.5*c2+0.1*c4|c1=0.4*c1+0.5*c2+0.1*c5"
    assert pan_filter(audio(1), 1) is None
    assert pan_filter(audio(1, channels=6, channel_layout="hexagonal"), 1) is None


def _band_db(path: Path, hz: float) -> float:
    samples, rate = sf.read(path, dtype="float32")
    spectrum = np.abs(np.fft.rfft(samples[rate // 4 : -rate // 4]))
    freqs = np.fft.rfftfreq(len(samples[rate // 4 : -rate // 4]), 1 / rate)
    return float(20 * np.log10(spectrum[np.abs(freqs - hz) < 20].max()))


def test_a_five_one_dub_keeps_its_centre_dialogue_above_the_effects(
    tmp_path: Path, tools: Tools
) -> None:
    src = tmp_path / "dub.mkv"
    # "Dialogue" (1 kHz) in the centre, "effects" (3 kHz) at the same level in the four others.
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=3",
        "-f", "lavfi", "-i", "sine=f=1000:sample_rate=48000:duration=3",
        "-f", "lavfi", "-i", "sine=f=3000:sample_rate=48000:duration=3",
        "-filter_complex", "[1:a][2:a]amerge=inputs=2,"
        "pan=5.1(side)|FL=c1|FR=c1|FC=c0|LFE=0*c0|SL=c1|SR=c1[a]",
        "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac", str(src),
    )  # fmt: skip
    info = probe(src, tools)
    track = select_track(info, "en")
    assert track.channels == 6 and track.channel_layout in ("", "5.1", "5.1(side)")
    ours = extract(src, info, track, tmp_path / "ours.wav", tools)
    assert ours.downmix.startswith("pan=mono")
    ffmpeg("-i", str(src), "-ac", "1", "-ar", "16000", str(tmp_path / "plain.wav"))
    ours_margin = _band_db(ours.path, 1000) - _band_db(ours.path, 3000)
    plain_margin = _band_db(tmp_path / "plain.wav", 1000) - _band_db(tmp_path / "plain.wav", 3000)
    assert ours_margin > plain_margin + 6, (ours_margin, plain_margin)


@pytest.mark.slow
def test_the_stage_takes_a_dual_audio_mkv_given_as_both_videos(
    episode: Episode, tmp_path: Path
) -> None:
    mkv = tmp_path / "episode.mkv"
    # The EN dub put on the JA timeline, plus an English commentary (the JA mix, quieter).
    ffmpeg(
        "-i", str(episode.dir / "ja.mp4"), "-i", str(episode.dir / "en.mp4"),
        "-filter_complex", f"[1:a]adelay={INTRO_MS}:all=1[en];"
        "[0:a]volume=0.3[c]",
        "-map", "0:v", "-map", "0:a", "-map", "[en]", "-map", "[c]",
        "-c:v", "copy", "-c:a", "aac", "-shortest",
        "-metadata:s:a:0", "language=jpn", "-metadata:s:a:1", "language=eng",
        "-metadata:s:a:2", "language=eng", "-metadata:s:a:2", "title=Commentary",
        "-disposition:a:0", "default", "-disposition:a:2", "comment", str(mkv),
    )  # fmt: skip
    store = LocalStore(tmp_path / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "media")
    executor = StageExecutor(MediaStage(), store, metrics, max_input_bytes=1 << 30)
    ref = store.put_file("in/episode.mkv", mkv, "video/x-matroska")
    request = build_request("media", "j", "ep", {"ja": ref, "en": ref}, media_pb2.MediaParams())
    result = executor.execute(request)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    media = json.loads(store.get_bytes(store.key_of(result.outputs["media"].uri)))
    assert media["audio"]["ja"]["stream_index"] == 1
    assert media["audio"]["en"]["stream_index"] == 2
    assert media["audio"]["en"]["track"].startswith("#2 eng")
    assert abs(media["offset"]["ja_offset_ms"]) <= 20  # one timeline
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["info"]["one_file"] is True
