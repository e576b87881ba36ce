"""Records on dubset.ingest.v1: a protobuf submission, or an S3/MinIO bucket notification for
an uploaded episode manifest (*.episode.json), and the manifest itself."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from dubset_common.errors import InvalidInputError
from dubset_common.jsondoc import load_object
from dubset_common.keys import check_id, check_key

MANIFEST_SUFFIX = ".episode.json"
MANIFEST_FORMAT = "dubset-episode-manifest/1"
MAX_MANIFEST_BYTES = 1024 * 1024
_MANIFEST_KEYS = frozenset(
    {"format", "show", "show_file", "episode_number", "ja", "en", "release", "episode", "options"}
    | {"ja_subtitles", "en_subtitles"}
)
_TRACK_OPTIONS = ("ja_track", "en_track", "ja_subs_track", "en_subs_track")
_OPTION_KEYS = frozenset(
    {"dataset", "labels", "run_tts", "run_faces", "run_quality", "kind", *_TRACK_OPTIONS}
)
KINDS = ("dataset", "dub")


@dataclass(frozen=True)
class ObjectEvent:
    """One object created in a bucket (key decoded)."""

    bucket: str
    key: str
    event_name: str
    size: int = 0


@dataclass(frozen=True)
class Notification:
    """A bucket notification: manifests to ingest, and why the other records were skipped."""

    manifests: tuple[ObjectEvent, ...]
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """An episode manifest with every path resolved to a key in the manifest's bucket."""

    episode_number: int
    ja_key: str
    en_key: str
    show: Mapping[str, object] | None = None
    show_key: str | None = None
    episode: Mapping[str, object] = field(default_factory=dict)
    dataset: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    run_tts: bool = True  # options.run_tts: false leaves out the baseline dub (tts task)
    run_faces: bool = True  # options.run_faces: false leaves out the faces task
    run_quality: bool = True  # options.run_quality: false leaves out the quality task
    # options.ja_track / en_track / ja_subs_track / en_subs_track: stream indexes
    tracks: Mapping[str, int] = field(default_factory=dict)
    subtitles: Mapping[str, str] = field(default_factory=dict)  # lang → a subtitle file key
    kind: str = "dataset"  # options.kind: "dub" dubs the episode (ja only; en_key is "")


def as_json_object(value: bytes) -> dict[str, object] | None:
    """The record as a JSON object, or None when it is not one (then it is protobuf).

    A serialized EpisodeSubmission never starts with "{" (it would be field 15, a group), and
    one that happens to after a leading varint would not also parse as a JSON object.
    """
    if not value.lstrip(b" \t\r\n").startswith(b"{"):
        return None
    try:
        doc = json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def parse_notification(doc: Mapping[str, object]) -> Notification:
    """MinIO's Kafka notification ({"EventName", "Key", "Records"}) or AWS's ({"Records"})."""
    records = doc.get("Records")
    if records is None:
        if doc.get("Event") == "s3:TestEvent":
            return Notification((), ("s3:TestEvent",))
        raise InvalidInputError("JSON record is not an S3 bucket notification (no Records)")
    if not isinstance(records, list):
        raise InvalidInputError("bucket notification Records is not a list")
    found: list[ObjectEvent] = []
    ignored: list[str] = []
    for i, rec in enumerate(records):
        event = _object_event(rec, i)
        if "ObjectCreated:" not in event.event_name:
            ignored.append(f"{event.key}: event {event.event_name} is not an object creation")
        elif not event.key.endswith(MANIFEST_SUFFIX):
            ignored.append(f"{event.key}: not a *{MANIFEST_SUFFIX} manifest")
        else:
            found.append(event)
    return Notification(tuple(found), tuple(ignored))


def _object_event(rec: object, i: int) -> ObjectEvent:
    where = f"Records[{i}]"
    if not isinstance(rec, dict):
        raise InvalidInputError(f"{where} is not an object")
    s3 = rec.get("s3")
    if not isinstance(s3, dict):
        raise InvalidInputError(f"{where} has no s3 object")
    bucket, obj = s3.get("bucket"), s3.get("object")
    if not isinstance(bucket, dict) or not isinstance(obj, dict):
        raise InvalidInputError(f"{where}.s3 has no bucket or object")
    name, key = bucket.get("name"), obj.get("key")
    if not isinstance(name, str) or not name or not isinstance(key, str) or not key:
        raise InvalidInputError(f"{where} has no bucket name or object key")
    size = obj.get("size", 0)
    event_name = rec.get("eventName", "")
    return ObjectEvent(
        bucket=name,
        key=unquote_plus(key),  # both MinIO and AWS form-encode keys ("+" is a space)
        event_name=event_name if isinstance(event_name, str) else "",
        size=size if isinstance(size, int) and not isinstance(size, bool) else 0,
    )


def resolve(manifest_key: str, relative: object, what: str) -> str:
    """A path from the manifest, relative to its folder, as a key in the same bucket."""
    if not isinstance(relative, str) or not relative:
        raise InvalidInputError(f"manifest {what} must be a relative path, not {relative!r:.80}")
    bad = (
        relative.startswith("/")
        or "\\" in relative
        or "://" in relative
        or ".." in relative.split("/")
    )
    if bad:
        raise InvalidInputError(
            f"manifest {what} {relative!r:.80} must stay in the manifest's folder: "
            "no absolute paths, no '..', no URLs"
        )
    folder = posixpath.dirname(manifest_key)
    return check_key(posixpath.join(folder, relative) if folder else relative)


def parse_manifest(data: bytes, manifest_key: str) -> Manifest:
    """Validate an episode manifest; every error names what to fix."""
    where = f"manifest {manifest_key}"
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidInputError(f"{where} is over {MAX_MANIFEST_BYTES} bytes")
    doc = load_object(data, where, InvalidInputError)
    if doc.get("format") != MANIFEST_FORMAT:
        raise InvalidInputError(f"{where}: format must be {MANIFEST_FORMAT!r}")
    unknown = sorted(set(doc) - _MANIFEST_KEYS)
    if unknown:
        raise InvalidInputError(f"{where}: unknown keys {', '.join(unknown)}")
    number = doc.get("episode_number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise InvalidInputError(f"{where}: episode_number must be an integer >= 0")
    show, show_file = doc.get("show"), doc.get("show_file")
    if (show is None) == (show_file is None):
        raise InvalidInputError(f"{where}: give exactly one of show (an object) or show_file")
    if show is not None and not isinstance(show, dict):
        raise InvalidInputError(f"{where}: show must be a JSON object")
    episode = doc.get("episode", {})
    if not isinstance(episode, dict):
        raise InvalidInputError(f"{where}: episode must be a JSON object")
    options = doc.get("options", {})
    dataset, labels = _options(options, where)
    run_tts, run_faces, run_quality = (
        _flag(options, name, where) for name in ("run_tts", "run_faces", "run_quality")
    )
    kind = options.get("kind", "dataset") if isinstance(options, dict) else "dataset"
    if kind not in KINDS:
        raise InvalidInputError(f"{where}: options.kind must be dataset or dub, not {kind!r:.20}")
    if kind == "dub":
        if "en" in doc or "release" in doc:
            raise InvalidInputError(
                f"{where}: a dub takes the Japanese episode alone: give ja, not en or release"
            )
        ja_key, en_key = resolve(manifest_key, doc.get("ja"), "ja"), ""
    else:
        ja_key, en_key = _media_keys(doc, manifest_key, where)
    return Manifest(
        episode_number=number,
        ja_key=ja_key,
        en_key=en_key,
        show=show,
        show_key=None if show_file is None else resolve(manifest_key, show_file, "show_file"),
        episode=episode,
        dataset=dataset,
        labels=labels,
        run_tts=run_tts,
        run_faces=run_faces,
        run_quality=run_quality,
        tracks=_tracks(options, where),
        subtitles={
            lang: resolve(manifest_key, doc.get(f"{lang}_subtitles"), f"{lang}_subtitles")
            for lang in ("ja", "en")
            if f"{lang}_subtitles" in doc
        },
        kind=kind,
    )


def _media_keys(doc: Mapping[str, object], manifest_key: str, where: str) -> tuple[str, str]:
    """release (one file with both languages), or ja and en (two releases)."""
    if "release" in doc:
        if "ja" in doc or "en" in doc:
            raise InvalidInputError(f"{where}: give release, or ja and en, not both")
        key = resolve(manifest_key, doc.get("release"), "release")
        return key, key
    return resolve(manifest_key, doc.get("ja"), "ja"), resolve(manifest_key, doc.get("en"), "en")


def _tracks(options: object, where: str) -> dict[str, int]:
    """options.*_track: stream indexes (the audio tracks, the subtitle streams)."""
    out = {}
    for name in _TRACK_OPTIONS:
        value = options.get(name) if isinstance(options, dict) else None
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInputError(f"{where}: options.{name} must be a stream index >= 0")
        out[name] = value
    return out


def _flag(options: object, name: str, where: str) -> bool:
    """An on/off option (unset: on)."""
    flag = options.get(name, True) if isinstance(options, dict) else True
    if not isinstance(flag, bool):
        raise InvalidInputError(f"{where}: options.{name} must be true or false")
    return flag


def _options(options: object, where: str) -> tuple[str, dict[str, str]]:
    if not isinstance(options, dict):
        raise InvalidInputError(f"{where}: options must be a JSON object")
    unknown = sorted(set(options) - _OPTION_KEYS)
    if unknown:
        raise InvalidInputError(f"{where}: unknown options {', '.join(unknown)}")
    dataset = options.get("dataset", "")
    if not isinstance(dataset, str):
        raise InvalidInputError(f"{where}: options.dataset must be a string")
    if dataset:
        check_id(dataset, "dataset name")
    labels = options.get("labels", {})
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise InvalidInputError(f"{where}: options.labels must map strings to strings")
    return dataset, dict(labels)
