"""The faces stage's dataset documents (pure): the packaging stage's episode fragment in (its
clip pairs: ids and JA spans), the faces fragment out (datasets/<ds>/faces/<episode>.json):
the AniVid clips' files and annotations, and per Anim-400K JA clip who speaks on screen."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dubset_common.anim400k import parse_time
from dubset_common.jsondoc import load_object
from dubset_faces.core.model import FacesInputError

EPISODE_FRAGMENT_FORMAT = "dubset-dataset-episode/1"
FACES_FORMAT = "dubset-dataset-faces/1"
ANIVID_DIR = "anivid_clips"
AV_DIR = "anim400k_av_clips"
_EPISODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CLIP_ID = re.compile(
    r"^([0-9a-f]{2})/\1[0-9a-f]{6}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@dataclass(frozen=True)
class PairClip:
    """One Anim-400K clip pair of the episode fragment."""

    jp_clip: str
    en_clip: str
    ja_start_ms: int
    ja_end_ms: int


@dataclass(frozen=True)
class EpisodeClips:
    episode_id: str
    clips: tuple[PairClip, ...]
    audio: Mapping[str, str]  # clip id -> its mp3's path in the dataset


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    bytes: int
    duration_ms: int
    kind: str  # anivid, anivid_full, av
    clip: str


def parse_episode_fragment(data: bytes) -> EpisodeClips:
    """datasets/<ds>/episodes/<episode_id>.json as packaging writes it."""
    doc = load_object(data, "episode fragment", FacesInputError)
    if doc.get("format") != EPISODE_FRAGMENT_FORMAT:
        raise FacesInputError(
            f"episode fragment format must be {EPISODE_FRAGMENT_FORMAT!r}: give the packaging "
            "stage's `episode` output"
        )
    episode_id = doc.get("episode_id")
    if not isinstance(episode_id, str) or not _EPISODE_ID.fullmatch(episode_id):
        raise FacesInputError(f"episode fragment episode_id {episode_id!r:.60} is not a safe id")
    episode = doc.get("episode")
    items = episode.get("clips") if isinstance(episode, dict) else None
    if not isinstance(items, list):
        raise FacesInputError("episode fragment episode.clips must be a list")
    clips = []
    for i, item in enumerate(items):
        where = f"episode fragment clips[{i}]"
        if not isinstance(item, dict):
            raise FacesInputError(f"{where} must be a JSON object")
        ids = [item.get("jp_clip"), item.get("en_clip")]
        if not all(isinstance(c, str) and _CLIP_ID.fullmatch(c) for c in ids):
            raise FacesInputError(f"{where}: jp_clip and en_clip must be clip ids")
        try:
            start = parse_time(str(item.get("jp_start_time")))
            end = parse_time(str(item.get("jp_end_time")))
        except ValueError as exc:
            raise FacesInputError(f"{where}: {exc}") from None
        if end < start:
            raise FacesInputError(f"{where}: jp_end_time is before jp_start_time")
        clips.append(PairClip(str(ids[0]), str(ids[1]), start, end))
    audio: dict[str, str] = {}
    files = doc.get("files")
    for f in files if isinstance(files, list) else []:
        if isinstance(f, dict) and f.get("kind") == "audio" and isinstance(f.get("clip"), str):
            path = f.get("path")
            if isinstance(path, str) and path.startswith("anim400k_audio_clips/"):
                audio[str(f["clip"])] = path
    return EpisodeClips(episode_id, tuple(clips), audio)


def anivid_path(episode_id: str, clip_id: str, full: bool) -> str:
    return f"{ANIVID_DIR}/{episode_id}/{clip_id}{'_full' if full else ''}.mp4"


def av_path(jp_clip: str) -> str:
    return f"{AV_DIR}/{jp_clip}.mp4"


def faces_fragment(
    *,
    episode_id: str,
    episode_sha256: str,
    backend: str,
    files: Sequence[FileEntry],
    anivid: Sequence[Mapping[str, object]],
    speaking: Mapping[str, Mapping[str, object]],
    characters: Mapping[str, object],
) -> dict[str, object]:
    """datasets/<ds>/faces/<episode_id>.json: made from exactly the episode fragment whose
    bytes hash to episode_sha256 (export skips it once that fragment changes)."""
    entries = [
        {
            "path": f.path,
            "sha256": f.sha256,
            "bytes": f.bytes,
            "duration_ms": f.duration_ms,
            "codec": "h264",
            "kind": f.kind,
            "language": "ja+en" if f.kind == "av" else "",
            "clip": f.clip,
            "episode_id": episode_id,
        }
        for f in files
    ]
    return {
        "format": FACES_FORMAT,
        "episode_id": episode_id,
        "episode_sha256": episode_sha256,
        "backend": backend,
        "files": sorted(entries, key=lambda e: str(e["path"])),
        "anivid": list(anivid),
        "speaking": dict(sorted(speaking.items())),
        "characters": dict(characters),
        "provenance": {"faces": backend},
    }
