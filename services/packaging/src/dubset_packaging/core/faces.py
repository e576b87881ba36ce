"""Faces fragments (the faces stage's AniVid clips, audio-visual clips and speaking faces per
clip pair) checked into manifest entries and the two published documents: AniVid's
annotations and anim400k_faces.json (clip id -> its tracks, speaking track, mouth flaps)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dubset_packaging.core.baseline import read_head
from dubset_packaging.core.export import (
    FILE_FIELDS,
    ExportError,
    Fragment,
    check_clip_id,
    check_file_numbers,
    typed_fields,
)

FACES_FORMAT = "dubset-dataset-faces/1"
ANIVID_DIR = "anivid_clips"
AV_DIR = "anim400k_av_clips"
FACES_DIRS = (ANIVID_DIR + "/", AV_DIR + "/")
FACE_KINDS = ("anivid", "anivid_full", "av")
ANIVID_ANNOTATIONS = "anivid_annotations.json"
FACES_SIDECAR = "anim400k_faces.json"
_ANIVID_ID = re.compile(r"^s[0-9]{4}-t[0-9]{4}-f[0-9]{6}$")


@dataclass(frozen=True)
class Faces:
    """A current faces fragment: its files as manifest entries (sorted by path), the AniVid
    clip annotations and the speaking faces by JA clip id."""

    episode_id: str
    files: tuple[dict[str, object], ...]
    anivid: tuple[dict[str, object], ...]
    speaking: dict[str, object]
    provenance: dict[str, str]


def faces_entry_path(value: Mapping[str, object]) -> str:
    """Where a faces file must live, from its kind, clip and episode."""
    kind, clip, episode = str(value["kind"]), str(value["clip"]), str(value["episode_id"])
    if kind == "av":
        return f"{AV_DIR}/{clip}.mp4"
    suffix = "_full" if kind == "anivid_full" else ""
    return f"{ANIVID_DIR}/{episode}/{clip}{suffix}.mp4"


def parse_faces_entry(value: object, episode_id: str, where: str) -> dict[str, object]:
    """A faces "files" entry (or manifest line): an h264 mp4 of a face clip, full-frame span or
    audio-visual clip, at the path its kind and clip give."""
    if not isinstance(value, dict):
        raise ExportError(f"{where} must be a JSON object")
    typed_fields(value, FILE_FIELDS, where)
    kind = value["kind"]
    if kind not in FACE_KINDS:
        raise ExportError(f"{where}.kind must be one of {', '.join(FACE_KINDS)}")
    if kind == "av":
        check_clip_id(value["clip"], f"{where}.clip")
    elif not _ANIVID_ID.fullmatch(str(value["clip"])):
        raise ExportError(f"{where}.clip {value['clip']!r:.40} is not a face clip id")
    if value["codec"] != "h264" or value["language"] != ("ja+en" if kind == "av" else ""):
        raise ExportError(f"{where}: codec must be h264, language ja+en (av) or empty")
    if value["path"] != faces_entry_path(value):
        raise ExportError(f"{where}.path {value['path']!r:.80} is not {faces_entry_path(value)}")
    check_file_numbers(value, episode_id, where)
    odd = sorted(str(k) for k, v in value.items() if not isinstance(v, str | int | float))
    if odd:
        raise ExportError(f"{where}.{odd[0]} must be a string or a number")
    return dict(value)


def parse_faces(value: object, where: str, fragment: Fragment) -> Faces:
    """A faces fragment checked against its (current) episode fragment."""
    head = read_head(value, where, FACES_FORMAT)
    assert isinstance(value, dict)
    if head.episode_id != fragment.episode_id:
        raise ExportError(f"{where}.episode_id is not {fragment.episode_id}")
    backend = value.get("backend")
    if not isinstance(backend, str) or not backend:
        raise ExportError(f"{where}.backend must be a non-empty string")
    jp_clips = {str(c["jp_clip"]) for c in fragment.clips}
    files: dict[str, dict[str, object]] = {}
    raw_files = value.get("files")
    if not isinstance(raw_files, list):
        raise ExportError(f"{where}.files must be a list")
    for i, raw in enumerate(raw_files):
        entry = parse_faces_entry(raw, head.episode_id, f"{where}.files[{i}]")
        if entry["kind"] == "av" and entry["clip"] not in jp_clips:
            raise ExportError(f"{where}.files[{i}].clip is not a jp_clip of the episode")
        if str(entry["path"]) in files:
            raise ExportError(f"{where}.files[{i}]: {entry['path']} is listed twice")
        files[str(entry["path"])] = entry
    anivid = value.get("anivid")
    speaking = value.get("speaking")
    if not isinstance(anivid, list) or not all(isinstance(a, dict) for a in anivid):
        raise ExportError(f"{where}.anivid must be a list of objects")
    if not isinstance(speaking, dict) or not set(speaking) <= jp_clips:
        raise ExportError(f"{where}.speaking must map the episode's jp_clip ids")
    for a in anivid:
        if a.get("path") not in files:
            raise ExportError(f"{where}.anivid: {a.get('path')!r:.80} is not in files")
    return Faces(
        head.episode_id,
        tuple(files[p] for p in sorted(files)),
        tuple(anivid),
        dict(speaking),
        {"faces": backend},
    )
