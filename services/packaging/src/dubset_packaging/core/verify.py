"""Checks of an exported dataset on plain values: the annotation schema and the references."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from dubset_common.anim400k import CHARACTER_FIELDS, SHOW_FIELDS, parse_time
from dubset_common.errors import InvalidInputError
from dubset_packaging.core.baseline import BASELINE_DIR, BASELINE_KIND, parse_baseline_entry
from dubset_packaging.core.export import (
    CLIP_FIELDS,
    EPISODE_ORDER,
    MEDIA,
    TIME_PAIRS,
    ExportError,
    check_clip_id,
    parse_file_entry,
)
from dubset_packaging.core.faces import FACE_KINDS, FACES_DIRS, parse_faces_entry
from dubset_packaging.core.quality import QUALITY_FIELD, check_quality_field
from dubset_packaging.core.splits import SPLITS

ANNOTATIONS = "anim400k_annotations.json"
MANIFEST = "manifest.jsonl"
KINDS = (
    "missing",
    "checksum_mismatch",
    "size_mismatch",
    "not_in_manifest",
    "unreferenced",
    "invalid_annotations",
)
_EPISODE_TYPES: dict[str, type] = dict.fromkeys(EPISODE_ORDER, str) | {"ratings": dict}
MEDIA_FOLDERS = (*(folder + "/" for folder, _ in MEDIA.values()), BASELINE_DIR + "/", *FACES_DIRS)


@dataclass(frozen=True, order=True)
class Problem:
    """One defect: its kind (KINDS), the dataset-relative path it concerns, and why."""

    kind: str
    path: str
    detail: str


@dataclass
class Annotated:
    """What the annotations reference: clip ids, and the problems found reading them."""

    clip_ids: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    def bad(self, where: str, detail: str) -> None:
        self.problems.append(Problem("invalid_annotations", ANNOTATIONS, f"{where}: {detail}"))


def _type_ok(value: object, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


def _fields(
    out: Annotated, value: Mapping[str, object], fields: Mapping[str, type], where: str
) -> None:
    for name, kind in fields.items():
        if name not in value:
            out.bad(where, f"field {name!r} is missing")
        elif not _type_ok(value[name], kind):
            out.bad(f"{where}.{name}", f"must be a {kind.__name__}, not {value[name]!r:.40}")


def check_annotations(value: object) -> Annotated:
    """The annotations against the Anim-400K schema; a show name in exactly one split."""
    out = Annotated()
    if not isinstance(value, dict):
        out.bad("annotations", "must be a JSON object of train, val and test")
        return out
    for key in sorted(set(value) - set(SPLITS)):
        out.bad("annotations", f"unknown split {key!r:.40}")
    seen: dict[str, str] = {}
    for split in SPLITS:
        shows = value.get(split)
        if not isinstance(shows, list):
            out.bad(split, "missing or not a list of shows")
            continue
        for i, show in enumerate(shows):
            where = f"{split}[{i}]"
            if not isinstance(show, dict):
                out.bad(where, "a show must be a JSON object")
                continue
            _show(out, show, where)
            name = show.get("show")
            if isinstance(name, str) and seen.setdefault(name, split) != split:
                out.bad(where, f"show {name!r:.80} is in both {seen[name]} and {split}")
    return out


def _show(out: Annotated, show: Mapping[str, object], where: str) -> None:
    _fields(out, show, SHOW_FIELDS, where)
    for key in sorted(set(show) - set(SHOW_FIELDS) - {"episodes"}):
        out.bad(where, f"unknown field {key!r:.40}")
    characters = show.get("characters")
    if isinstance(characters, dict):
        for name, character in characters.items():
            if isinstance(character, dict):
                _fields(out, character, CHARACTER_FIELDS, f"{where}.characters[{name!r:.40}]")
            else:
                out.bad(f"{where}.characters[{name!r:.40}]", "must be a JSON object")
    episodes = show.get("episodes")
    if not isinstance(episodes, dict):
        out.bad(where, "episodes must be an object of episode number to episode")
        return
    for number, episode in episodes.items():
        ep_where = f"{where}.episodes[{number!r:.20}]"
        if not isinstance(episode, dict):
            out.bad(ep_where, "an episode must be a JSON object")
            continue
        _fields(out, episode, _EPISODE_TYPES, ep_where)
        clips = episode.get("clips")
        if not isinstance(clips, list):
            out.bad(ep_where, "clips must be a list of clips")
        for k, clip in enumerate(clips if isinstance(clips, list) else []):
            _clip(out, clip, f"{ep_where}.clips[{k}]")


def _clip(out: Annotated, clip: object, where: str) -> None:
    if not isinstance(clip, dict):
        out.bad(where, "a clip must be a JSON object")
        return
    _fields(out, clip, dict.fromkeys(CLIP_FIELDS[:8], str) | {"speakers": list}, where)
    for name in ("jp_clip", "en_clip"):
        try:
            out.clip_ids.add(check_clip_id(clip.get(name), f"{where}.{name}"))
        except ExportError as exc:
            out.bad(where, str(exc).split(": ", 1)[-1])
    for start, end in TIME_PAIRS:
        try:
            a, b = parse_time(str(clip.get(start))), parse_time(str(clip.get(end)))
        except ValueError as exc:
            out.bad(where, str(exc))
            continue
        if b < a:
            out.bad(where, f"{end} {clip[end]} is before {start} {clip[start]}")


def parse_manifest_line(raw: bytes, lineno: int) -> dict[str, object] | Problem:
    """A manifest line as a files entry (plus provenance), or the problem with it."""
    try:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise InvalidInputError("not a JSON object")
        provenance = value.pop("provenance", None)
        if not isinstance(provenance, dict):
            raise InvalidInputError("provenance is missing")
        check_quality_field(value.pop(QUALITY_FIELD, None))
        episode_id = str(value.get("episode_id"))
        if value.get("kind") == BASELINE_KIND:
            return parse_baseline_entry(value, episode_id, "entry")
        if value.get("kind") in FACE_KINDS:
            return parse_faces_entry(value, episode_id, "entry")
        return parse_file_entry(value, episode_id, "entry")
    except (ValueError, InvalidInputError) as exc:
        return Problem("invalid_annotations", MANIFEST, f"line {lineno}: {exc}")


def reference_problems(
    listed: Collection[str],
    manifest: Mapping[str, Mapping[str, object]],
    clip_ids: Iterable[str],
) -> list[Problem]:
    """Missing, unlisted and unreferenced media, given the dataset's files (relative paths),
    its manifest entries by path and the clip ids the annotations use. A baseline clip is
    referenced by its manifest line when that names an annotated EN clip."""
    problems: list[Problem] = []
    video_episodes = {e["episode_id"] for e in manifest.values() if e["kind"] == "video"}
    episode_of = {e["clip"]: e["episode_id"] for e in manifest.values() if e["kind"] == "audio"}
    wanted: set[str] = set()
    clip_set = set(clip_ids)
    for clip in clip_set:
        kinds = ("audio", "video") if episode_of.get(clip) in video_episodes else ("audio",)
        for kind in kinds:
            folder, ext = MEDIA[kind]
            wanted.add(f"{folder}/{clip}{ext}")
    for path in sorted(wanted | set(manifest)):
        if path not in listed:
            why = "referenced by the annotations" if path in wanted else "listed in the manifest"
            problems.append(Problem("missing", path, f"{why} but not in the dataset"))
        elif path not in manifest:
            problems.append(
                Problem("not_in_manifest", path, "referenced but not in manifest.jsonl")
            )
    for path in sorted(p for p in listed if p.startswith(MEDIA_FOLDERS)):
        problems += _media_problems(path, manifest.get(path), wanted, clip_set)
    return problems


def _media_problems(
    path: str, entry: Mapping[str, object] | None, wanted: set[str], clip_set: set[str]
) -> list[Problem]:
    """A media file of the dataset: a baseline or audio-visual clip is referenced by its
    manifest line naming an annotated clip; an AniVid clip by its manifest line; any other by
    the annotations."""
    kind = None if entry is None else entry["kind"]
    if kind in (BASELINE_KIND, "av"):
        assert entry is not None
        if entry["clip"] in clip_set:
            return []
        what = "baseline" if kind == BASELINE_KIND else "audio-visual clip"
        detail = f"the {what} of clip {entry['clip']}, which no annotation references"
        return [Problem("unreferenced", path, detail)]
    if kind in FACE_KINDS:
        return []
    if path.startswith((BASELINE_DIR + "/", *FACES_DIRS)):
        return [
            Problem("unreferenced", path, "a media file no manifest line lists"),
            Problem("not_in_manifest", path, "a media file manifest.jsonl lacks"),
        ]
    if path in wanted:
        return []
    out = [Problem("unreferenced", path, "no annotation references this file")]
    if entry is None:
        out.append(Problem("not_in_manifest", path, "a media file manifest.jsonl lacks"))
    return out
