"""Records of dubset.ingest.v1 as EpisodeSubmissions: protobuf, or bucket notifications
whose episode manifests are read from the store."""

from __future__ import annotations

import json

from google.protobuf.message import DecodeError

from dubset.v1 import jobs_pb2
from dubset_common.anim400k_proto import episode_info_to_proto, show_to_proto
from dubset_common.errors import InvalidInputError
from dubset_common.objstore import ObjectStore
from dubset_jobs.core.ingest import (
    MAX_MANIFEST_BYTES,
    ObjectEvent,
    as_json_object,
    parse_manifest,
    parse_notification,
)


def parse_record(value: bytes) -> tuple[str, jobs_pb2.EpisodeSubmission | list[ObjectEvent]]:
    """("ingest", submission) or ("minio", manifest events); InvalidInputError otherwise."""
    doc = as_json_object(value)
    if doc is not None:
        note = parse_notification(doc)
        return "minio", list(note.manifests)
    sub = jobs_pb2.EpisodeSubmission()
    try:
        sub.ParseFromString(value)
    except DecodeError:
        raise InvalidInputError(
            "record is neither an EpisodeSubmission nor a JSON bucket notification"
        ) from None
    if not sub.ja_media.uri and not sub.en_media.uri:
        raise InvalidInputError("record is an empty EpisodeSubmission (no media)")
    return "ingest", sub


def store_key(store: ObjectStore, event: ObjectEvent) -> str:
    """The event's object as a key of this store; another bucket is refused."""
    bucket = getattr(store, "bucket", None)
    if bucket is None:
        raise InvalidInputError(
            f"notification for s3://{event.bucket}/{event.key}, but this jobs service uses a "
            "local object store; bucket notifications need DUBSET_STORE=s3"
        )
    if event.bucket != bucket:
        raise InvalidInputError(
            f"notification for bucket {event.bucket!r}, but this jobs service reads bucket "
            f"{bucket!r}; point the bucket's notification at the jobs service of that bucket"
        )
    return store.key_of(f"s3://{event.bucket}/{event.key}")


def submission_from_manifest(store: ObjectStore, key: str) -> jobs_pb2.EpisodeSubmission:
    """Read and validate an uploaded manifest (and its show file) into a submission."""
    manifest = parse_manifest(store.get_bytes(key, max_bytes=MAX_MANIFEST_BYTES), key)
    show = manifest.show
    if manifest.show_key is not None:
        raw = store.get_bytes(manifest.show_key, max_bytes=MAX_MANIFEST_BYTES)
        try:
            show = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidInputError(f"show file {manifest.show_key} is not JSON: {exc}") from None
        if not isinstance(show, dict):
            raise InvalidInputError(f"show file {manifest.show_key} is not a JSON object")
    assert show is not None
    sub = jobs_pb2.EpisodeSubmission(episode_number=manifest.episode_number)
    sub.show.CopyFrom(show_to_proto({k: v for k, v in show.items() if k != "episodes"}))
    sub.episode.CopyFrom(episode_info_to_proto(manifest.episode))
    sub.ja_media.uri = store.uri(manifest.ja_key)
    sub.en_media.uri = store.uri(manifest.en_key)
    sub.options.dataset = manifest.dataset
    sub.options.labels.update(manifest.labels)
    if not manifest.run_tts:  # only an explicit false: unset means on
        sub.options.run_tts = False
    sub.options.labels["manifest"] = store.uri(key)
    return sub
