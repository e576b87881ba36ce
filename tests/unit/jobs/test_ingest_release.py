"""An uploaded manifest naming one dual-audio release and its tracks."""

from __future__ import annotations

import json
from pathlib import Path

from dubset.v1 import media_pb2
from dubset_common.objstore import LocalStore
from dubset_jobs.ingest_records import submission_from_manifest


def test_a_release_manifest_names_one_file_twice_and_its_track_overrides(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("up/show/ep03.mkv", b"video", "video/x-matroska")
    doc = {
        "format": "dubset-episode-manifest/1",
        "show": {"show": "S"},
        "episode_number": 3,
        "release": "ep03.mkv",
        "en_subtitles": "subs/ep03.en.ass",
        "options": {"ja_track": 1, "en_track": 3, "ja_subs_track": 5},
    }
    store.put_bytes("up/show/ep03.episode.json", json.dumps(doc).encode(), "application/json")
    sub = submission_from_manifest(store, "up/show/ep03.episode.json")
    assert sub.ja_media.uri == sub.en_media.uri == store.uri("up/show/ep03.mkv")
    params = media_pb2.MediaParams()
    assert sub.options.stage_params["media"].Unpack(params)
    assert (params.ja_stream_index, params.en_stream_index) == (1, 3)
    assert params.ja_subtitle_stream == 5 and not params.HasField("en_subtitle_stream")
    assert sub.en_subtitles.uri == store.uri("up/show/subs/ep03.en.ass")
    doc["options"] = {}
    del doc["en_subtitles"]
    store.put_bytes("up/show/ep04.episode.json", json.dumps(doc).encode(), "application/json")
    plain = submission_from_manifest(store, "up/show/ep04.episode.json")
    assert "media" not in plain.options.stage_params and not plain.en_subtitles.uri


def test_a_dub_manifest_names_the_japanese_episode_alone(tmp_path: Path) -> None:
    import pytest

    from dubset.v1 import jobs_pb2
    from dubset_common.errors import InvalidInputError

    store = LocalStore(tmp_path)
    doc = {
        "format": "dubset-episode-manifest/1",
        "show": {"show": "S"},
        "episode_number": 3,
        "ja": "ep03.mkv",
        "en_subtitles": "ep03.en.ass",
        "options": {"kind": "dub"},
    }
    store.put_bytes("up/s/ep03.episode.json", json.dumps(doc).encode(), "application/json")
    sub = submission_from_manifest(store, "up/s/ep03.episode.json")
    assert sub.options.kind == jobs_pb2.JOB_KIND_DUB and not sub.en_media.uri
    assert sub.en_subtitles.uri == store.uri("up/s/ep03.en.ass")
    for change, needle in (({"en": "en.mp4"}, "the Japanese episode alone"),
                           ({"options": {"kind": "karaoke"}}, "options.kind must be")):  # fmt: skip
        store.put_bytes("up/s/bad.episode.json", json.dumps({**doc, **change}).encode())
        with pytest.raises(InvalidInputError, match=needle):
            submission_from_manifest(store, "up/s/bad.episode.json")
