"""Completeness: every listed or referenced media file exists with its recorded checksum."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dubset_common.keys import file_sha256
from dubset_eval.fields import FieldError, integer, obj, string
from dubset_eval.results import DatasetEpisode

AUDIO_DIR = "anim400k_audio_clips"
VIDEO_DIR = "anim400k_video_clips"
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Listed:
    """A file a manifest records: path relative to the manifest's root, sha256, size if known."""

    path: str
    sha256: str
    size: int | None


@dataclass(frozen=True)
class Completeness:
    listed: int
    missing: tuple[str, ...]
    corrupt: tuple[str, ...]
    unlisted: tuple[str, ...]
    invalid: tuple[str, ...]

    @property
    def defects(self) -> int:
        return len(self.missing) + len(self.corrupt) + len(self.unlisted) + len(self.invalid)


def _sha256(value: Mapping[str, object], where: str) -> str:
    digest = string(value, "sha256", where).lower()
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise FieldError(f"{where}.sha256: not a sha256 hex digest")
    return digest


def parse_dataset_manifest(raw: bytes) -> tuple[Listed, ...]:
    """manifest.jsonl: one {path, sha256, bytes, ...} object per line."""
    out = []
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"manifest.jsonl line {n}"
        try:
            value = json.loads(line)
        except ValueError:
            raise FieldError(f"{where}: not valid JSON") from None
        d = obj(value, where)
        size = integer(d, "bytes", where, minimum=0) if "bytes" in d else None
        out.append(Listed(string(d, "path", where), _sha256(d, where), size))
    return tuple(out)


def parse_stage_manifest(value: object) -> tuple[Listed, ...]:
    """A stage's _manifest.json: its outputs sit beside it, named by the last part of their key."""
    d = obj(value, "_manifest.json")
    outputs = obj(d.get("outputs"), "_manifest.json.outputs")
    out = []
    for name, item in sorted(outputs.items()):
        where = f"outputs.{name}"
        o = obj(item, where)
        key = string(o, "key", where)
        size = integer(o, "size_bytes", where, minimum=0) if "size_bytes" in o else None
        out.append(Listed(PurePosixPath(key).name, _sha256(o, where), size))
    return tuple(out)


def referenced_media(episodes: Iterable[DatasetEpisode]) -> set[str]:
    """The audio and video files every clip id of the annotations points at."""
    paths = set()
    for ep in episodes:
        for clip in ep.clips:
            for clip_id in (clip.jp_clip, clip.en_clip):
                paths.add(f"{AUDIO_DIR}/{clip_id}.mp3")
                paths.add(f"{VIDEO_DIR}/{clip_id}.mp4")
    return paths


def _safe(rel: str) -> bool:
    p = PurePosixPath(rel)
    return bool(rel) and "\\" not in rel and not p.is_absolute() and ".." not in p.parts


def check(root: Path, listed: Sequence[Listed], referenced: Iterable[str] = ()) -> Completeness:
    """Listed files exist with their size and sha256; referenced paths are listed and exist."""
    missing: set[str] = set()
    corrupt: set[str] = set()
    invalid: set[str] = set()
    for entry in listed:
        if not _safe(entry.path):
            invalid.add(entry.path)
            continue
        path = root / entry.path
        if not path.is_file():
            missing.add(entry.path)
        elif (entry.size is not None and path.stat().st_size != entry.size) or file_sha256(
            path
        ) != entry.sha256:
            corrupt.add(entry.path)
    names = {e.path for e in listed}
    unlisted: set[str] = set()
    for rel in referenced:
        if not _safe(rel):
            invalid.add(rel)
        elif rel not in names:
            unlisted.add(rel)
            if not (root / rel).is_file():
                missing.add(rel)
    return Completeness(
        len(listed),
        tuple(sorted(missing)),
        tuple(sorted(corrupt)),
        tuple(sorted(unlisted)),
        tuple(sorted(invalid)),
    )
