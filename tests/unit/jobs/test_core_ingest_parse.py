"""Ingest records: JSON bucket notifications vs protobuf, and hostile manifests."""

from __future__ import annotations

import json

import pytest

from dubset.v1 import jobs_pb2
from dubset_common.errors import InvalidInputError
from dubset_jobs.core.ingest_parse import as_json_object, parse_manifest, parse_notification


def minio_event(*keys: str, bucket: str = "dubset", name: str = "s3:ObjectCreated:Put") -> dict:
    return {
        "EventName": name,
        "Key": f"{bucket}/{keys[0]}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventName": name,
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": key, "size": 120, "eTag": "abc"},
                },
            }
            for key in keys
        ],
    }


def test_json_and_protobuf_records_are_told_apart() -> None:
    event = json.dumps(minio_event("a.episode.json")).encode()
    assert as_json_object(event) is not None
    for number in (0, 3, 123):  # 123 == ord("{"): a varint that looks like JSON
        sub = jobs_pb2.EpisodeSubmission(episode_number=number, submission_id="s1")
        assert as_json_object(sub.SerializeToString()) is None
    assert as_json_object(b"{not json") is None
    assert as_json_object(b"[1]") is None


def test_minio_event_with_several_records_and_url_encoded_keys() -> None:
    doc = minio_event("in/My+Show%2C+S1/ep%2003.episode.json", "in/ep03_ja.mp4", "x.episode.json")
    note = parse_notification(doc)
    assert [(m.bucket, m.key, m.size) for m in note.manifests] == [
        ("dubset", "in/My Show, S1/ep 03.episode.json", 120),
        ("dubset", "x.episode.json", 120),
    ]
    assert len(note.ignored) == 1 and "ep03_ja.mp4" in note.ignored[0]


def test_aws_shape_and_non_creation_events() -> None:
    doc = {"Records": minio_event("a.episode.json", name="ObjectCreated:Put")["Records"]}
    assert [m.key for m in parse_notification(doc).manifests] == ["a.episode.json"]
    removed = minio_event("a.episode.json", name="s3:ObjectRemoved:Delete")
    assert parse_notification(removed).manifests == ()
    assert parse_notification({"Event": "s3:TestEvent"}).manifests == ()
    with pytest.raises(InvalidInputError):
        parse_notification({"hello": 1})
    with pytest.raises(InvalidInputError):
        parse_notification({"Records": [{"s3": {}}]})


def manifest(**kw: object) -> bytes:
    doc: dict[str, object] = {
        "format": "dubset-episode-manifest/1",
        "show_file": "show.json",
        "episode_number": 3,
        "ja": "ep03_ja.mp4",
        "en": "dub/ep03_en.mp4",
        "options": {"dataset": "anime1"},
    }
    doc.update(kw)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def test_manifest_paths_resolve_in_its_folder() -> None:
    m = parse_manifest(manifest(), "uploads/show/ep03.episode.json")
    assert m.ja_key == "uploads/show/ep03_ja.mp4"
    assert m.en_key == "uploads/show/dub/ep03_en.mp4"
    assert m.show_key == "uploads/show/show.json"
    assert (m.episode_number, m.dataset) == (3, "anime1")
    inline = parse_manifest(manifest(show_file=None, show={"show": "S"}), "ep.episode.json")
    assert inline.show == {"show": "S"} and inline.ja_key == "ep03_ja.mp4"


def test_a_dual_audio_release_is_both_videos_and_tracks_can_be_named() -> None:
    doc = json.loads(manifest())
    del doc["ja"], doc["en"]
    doc["release"] = "ep03.mkv"
    doc["options"] = {"en_track": 2}
    m = parse_manifest(json.dumps(doc).encode(), "uploads/show/ep03.episode.json")
    assert m.ja_key == m.en_key == "uploads/show/ep03.mkv"
    assert m.tracks == {"en_track": 2}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"ja": "../other/ja.mp4"}, "no '..'"),
        ({"en": "/etc/passwd"}, "no absolute"),
        ({"ja": "s3://other-bucket/ja.mp4"}, "no URLs"),
        ({"ja": "a\\..\\b"}, "no '..'"),
        ({"show_file": "../../show.json"}, "no '..'"),
        ({"show": {"show": "S"}}, "exactly one of show"),
        ({"episode_number": -1}, "episode_number"),
        ({"episode_number": "3"}, "episode_number"),
        ({"format": "v2"}, "format"),
        ({"extra": 1}, "unknown keys extra"),
        ({"options": {"dataset": "../x"}}, "dataset"),
        ({"options": {"tts": True}}, "unknown options tts"),
        ({"release": "ep.mkv"}, "release, or ja and en, not both"),
        ({"options": {"en_track": -1}}, "en_track must be a stream index"),
        ({"options": {"ja_track": "1"}}, "ja_track must be a stream index"),
    ],
)
def test_hostile_or_malformed_manifests_are_refused(change: dict, needle: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        parse_manifest(manifest(**change), "in/ep.episode.json")
    assert needle in str(exc.value)


def test_manifest_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        parse_manifest(b"\xff\x00", "in/ep.episode.json")
