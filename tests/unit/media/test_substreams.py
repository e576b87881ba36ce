"""Subtitle streams inside a release: the one asked for is extracted; others are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import media_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.subtitles import Cue, parse, to_ass
from dubset_media.core.model import MediaInfo, MediaInputError, StreamInfo
from dubset_media.core.substreams import subtitle_stream
from dubset_media.handler import MediaStage

from .conftest import INTRO_MS, Episode, ffmpeg

INFO = MediaInfo(
    "matroska,webm",
    60_000,
    1,
    0,
    (
        StreamInfo(0, "video", "h264"),
        StreamInfo(1, "audio", "aac", "jpn", channels=2),
        StreamInfo(2, "subtitle", "hdmv_pgs_subtitle", "eng", "English (PGS)"),
        StreamInfo(3, "subtitle", "ass", "eng", "English"),
    ),
)


def test_a_text_stream_is_taken_and_others_are_refused_listing_them() -> None:
    assert subtitle_stream(INFO, 3, "en").codec == "ass"
    with pytest.raises(MediaInputError, match=r"image subtitles \(PGS\).*#3 eng ass"):
        subtitle_stream(INFO, 2, "en")
    with pytest.raises(MediaInputError, match="#1 is audio, not subtitles"):
        subtitle_stream(INFO, 1, "en")
    with pytest.raises(MediaInputError, match="--ja-subs-track 9: #9 is no stream"):
        subtitle_stream(INFO, 9, "ja")


@pytest.mark.slow
def test_the_stage_extracts_the_asked_ass_stream_with_its_actors(
    episode: Episode, tmp_path: Path
) -> None:
    cues = [Cue(31000, 32500, "Hello there.", actor="Aoi"), Cue(33000, 34000, "Hi!", actor="Ren")]
    (tmp_path / "en.ass").write_text(to_ass(cues, "ep"), encoding="utf-8")
    mkv = tmp_path / "ep.mkv"
    ffmpeg(
        "-i", str(episode.dir / "ja.mp4"), "-i", str(episode.dir / "en.mp4"),
        "-i", str(tmp_path / "en.ass"),
        "-filter_complex", f"[1:a]adelay={INTRO_MS}:all=1[en]",
        "-map", "0:v", "-map", "0:a", "-map", "[en]", "-map", "2:s",
        "-c:v", "copy", "-c:a", "aac", "-c:s", "ass", "-shortest",
        "-metadata:s:a:0", "language=jpn", "-metadata:s:a:1", "language=eng",
        "-metadata:s:s:0", "language=eng", str(mkv),
    )  # fmt: skip
    store = LocalStore(tmp_path / "store")
    ref = store.put_file("in/ep.mkv", mkv, "video/x-matroska")
    stage = MediaStage()
    executor = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "media"))
    asked = media_pb2.MediaParams(en_subtitle_stream=3)
    result = executor.execute(build_request("media", "j", "ep", {"ja": ref, "en": ref}, asked))
    assert set(result.outputs) == {"ja", "en", "media", "en_subtitles"}
    got = parse(store.get_bytes(store.key_of(result.outputs["en_subtitles"].uri)))
    # Times on the container's clock (within a frame of the authored ones; the asr stage
    # aligns every cue to the speech anyway), texts and speakers as written.
    assert [(c.text, c.actor) for c in got] == [("Hello there.", "Aoi"), ("Hi!", "Ren")]
    for cue, want in zip(got, cues, strict=True):
        assert abs(cue.start_ms - want.start_ms) <= 50 and abs(cue.end_ms - want.end_ms) <= 50
    wrong = media_pb2.MediaParams(en_subtitle_stream=1)
    with pytest.raises(InvalidInputError, match=r"not subtitles\. Subtitle streams: #3 eng ass"):
        executor.execute(build_request("media", "j", "ep", {"ja": ref, "en": ref}, wrong))
