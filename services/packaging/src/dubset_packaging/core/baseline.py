"""Baseline fragments (the tts stage's dub per EN clip) checked into manifest entries."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_packaging.core.export import (
    FILE_FIELDS,
    OPTIONAL_FILE_FIELDS,
    SHA256_HEX,
    ExportError,
    Fragment,
    check_clip_id,
    check_file_numbers,
    typed_fields,
)

BASELINE_FORMAT = "dubset-dataset-baseline/1"
BASELINE_KIND = "baseline"
BASELINE_DIR = "anim400k_baseline_clips"
_SCORE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class BaselineHead:
    """What decides whether a baseline fragment is current: the episode fragment it was made
    from, by the sha256 of that fragment's bytes."""

    episode_id: str
    episode_sha256: str


@dataclass(frozen=True)
class Baseline:
    """A current baseline fragment: its files as manifest entries (no text), sorted by path,
    and the backends that made them (`tts`, `translation`, ...)."""

    episode_id: str
    files: tuple[dict[str, object], ...]
    provenance: dict[str, str]


def baseline_path(clip_id: str) -> str:
    """Where the baseline dub of an EN clip lives, relative to the dataset root."""
    return f"{BASELINE_DIR}/{clip_id}.mp3"


def read_head(value: object, where: str, fmt: str = BASELINE_FORMAT) -> BaselineHead:
    """The format, episode id and episode_sha256 of a baseline (or faces) fragment (checked
    first, so a stale fragment of an older format or clip set is skipped, not refused)."""
    if not isinstance(value, dict):
        raise ExportError(f"{where} is not a JSON object")
    if value.get("format") != fmt:
        raise ExportError(f"{where}: format must be {fmt}, not {value.get('format')!r:.40}")
    episode_id = value.get("episode_id")
    if not isinstance(episode_id, str):
        raise ExportError(f"{where}.episode_id must be a string")
    try:
        check_id(episode_id, "episode_id")
    except InvalidInputError as exc:
        raise ExportError(f"{where}.episode_id: {exc}") from None
    digest = value.get("episode_sha256")
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise ExportError(f"{where}.episode_sha256 must be 64 lowercase hex digits")
    return BaselineHead(episode_id, digest)


def _text(value: Mapping[str, object], name: str, where: str) -> str:
    item = value.get(name)
    if not isinstance(item, str) or not item.strip():
        raise ExportError(f"{where}.{name} must be a non-empty string, not {item!r:.40}")
    return item


def _scores(value: object, where: str) -> dict[str, float | int]:
    if not isinstance(value, dict):
        raise ExportError(f"{where} must be a JSON object of score name to number")
    for name, score in value.items():
        if not isinstance(name, str) or not _SCORE_NAME.fullmatch(name):
            raise ExportError(f"{where}: {name!r:.40} is not a score name")
        ok = isinstance(score, int | float) and not isinstance(score, bool)
        if not ok or not math.isfinite(float(score)):
            raise ExportError(f"{where}.{name} must be a finite number, not {score!r:.40}")
    return dict(sorted(value.items()))


def parse_baseline_entry(value: object, episode_id: str, where: str) -> dict[str, object]:
    """A baseline "files" entry (or manifest line) without its text: an mp3 of an EN clip under
    anim400k_baseline_clips/, with its voice, fits flag and scores."""
    if not isinstance(value, dict):
        raise ExportError(f"{where} must be a JSON object")
    typed_fields(value, FILE_FIELDS, where)
    typed_fields(value, {k: t for k, t in OPTIONAL_FILE_FIELDS.items() if k in value}, where)
    clip = check_clip_id(value["clip"], f"{where}.clip")
    wanted = {"kind": BASELINE_KIND, "codec": "mp3", "language": "en"}
    for name, want in wanted.items():
        if value[name] != want:
            raise ExportError(f"{where}.{name} must be {want}, not {value[name]!r:.20}")
    if value["path"] != baseline_path(clip):
        raise ExportError(f"{where}.path {value['path']!r:.80} is not {baseline_path(clip)}")
    check_file_numbers(value, episode_id, where)
    for name, kind, what in (("text", str, "a string"), ("voice", str, "a string"),
                             ("fits", bool, "true or false")):  # fmt: skip
        if name in value and not isinstance(value[name], kind):
            raise ExportError(f"{where}.{name} must be {what}")
    entry = {k: v for k, v in value.items() if k != "text"}
    if "scores" in entry:
        entry["scores"] = _scores(entry["scores"], f"{where}.scores")
    odd = sorted(
        str(k) for k, v in entry.items() if k != "scores" and not isinstance(v, str | int | float)
    )
    if odd:  # extra fields are carried into the manifest, but only as plain values
        raise ExportError(f"{where}.{odd[0]} must be a string, a number or a boolean")
    return entry


def parse_baseline(value: object, where: str, fragment: Fragment) -> Baseline:
    """A current baseline fragment checked completely against its episode fragment: every file
    is the dub of one of the episode's EN clips, listed once."""
    head = read_head(value, where)
    assert isinstance(value, dict)
    if head.episode_id != fragment.episode_id:
        raise ExportError(f"{where}.episode_id is not {fragment.episode_id}")
    provenance = {
        "tts": _text(value, "backend", where),
        "translation": _text(value, "translation_backend", where),
    }
    stated = value.get("provenance", {})
    if not isinstance(stated, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in stated.items()
    ):
        raise ExportError(f"{where}.provenance must map task names to backend strings")
    raw_files = value.get("files")
    if not isinstance(raw_files, list):
        raise ExportError(f"{where}.files must be a list")
    en_clips = {str(c["en_clip"]) for c in fragment.clips}
    files: dict[str, dict[str, object]] = {}
    for i, raw in enumerate(raw_files):
        at = f"{where}.files[{i}]"
        entry = parse_baseline_entry(raw, head.episode_id, at)
        if entry["clip"] not in en_clips:
            raise ExportError(
                f"{at}.clip {entry['clip']} is not an en_clip of episode {head.episode_id}"
            )
        if str(entry["path"]) in files:
            raise ExportError(f"{at}: {entry['path']} is listed twice")
        files[str(entry["path"])] = entry
    merged = dict(sorted((provenance | stated).items()))
    return Baseline(head.episode_id, tuple(files[p] for p in sorted(files)), merged)
