"""Episode fragments into Anim-400K annotations and manifest lines: validated and deterministic."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from dubset_common.anim400k import normalize_episode_info, normalize_show, parse_time
from dubset_common.errors import InvalidInputError
from dubset_common.keys import canonical_json, check_id, sha256_hex
from dubset_packaging.core.splits import SPLITS, split_of

FRAGMENT_FORMAT = "dubset-dataset-episode/1"
MEDIA = {"audio": ("anim400k_audio_clips", ".mp3"), "video": ("anim400k_video_clips", ".mp4")}
CLIP_FIELDS = (
    "jp_clip",
    "en_clip",
    "jp_text",
    "en_text",
    "jp_start_time",
    "jp_end_time",
    "en_start_time",
    "en_end_time",
    "speakers",
)
TIME_PAIRS = (("jp_start_time", "jp_end_time"), ("en_start_time", "en_end_time"))
EPISODE_ORDER = ("url", "ratings", "jp_video_id", "en_video_id", "synopsis")
CLIP_ID = re.compile(
    r"^([0-9a-f]{2})/(\1[0-9a-f]{6}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
FILE_FIELDS: dict[str, type] = {
    "path": str,
    "sha256": str,
    "bytes": int,
    "duration_ms": int,
    "codec": str,
    "kind": str,
    "language": str,
    "clip": str,
    "episode_id": str,
}
OPTIONAL_FILE_FIELDS: dict[str, type] = {"sample_rate": int, "channels": int}


class ExportError(InvalidInputError):
    """Fragments that cannot become a dataset (malformed, duplicated, dangling)."""


def check_clip_id(value: object, where: str) -> str:
    """A clip id `xx/<uuid>` whose folder is the uuid's first two characters."""
    if not isinstance(value, str) or not CLIP_ID.fullmatch(value):
        raise ExportError(f"{where}: {value!r:.60} is not a clip id like db/db019ebb-...-<uuid>")
    return value


def media_path(kind: str, clip_id: str) -> str:
    folder, ext = MEDIA[kind]
    return f"{folder}/{clip_id}{ext}"


def natural_key(text: str) -> tuple[int, Decimal, str]:
    """Numbers in numeric order ("2" before "10"), then everything else by text."""
    if _NUMBER.fullmatch(text):
        return (0, Decimal(text), text)
    return (1, Decimal(0), text)


@dataclass(frozen=True)
class Fragment:
    """One validated episode fragment (datasets/<name>/episodes/<episode_id>.json)."""

    episode_id: str
    number: str
    show: dict[str, object]
    episode: dict[str, object]  # Anim-400K episode object in format order, "clips" last
    files: tuple[dict[str, object], ...]  # sorted by path
    provenance: dict[str, str]

    @property
    def clips(self) -> list[dict[str, object]]:
        clips = self.episode["clips"]
        assert isinstance(clips, list)
        return clips


def typed_fields(value: Mapping[str, object], fields: Mapping[str, type], where: str) -> None:
    for name, kind in fields.items():
        item = value.get(name)
        if isinstance(item, bool) or not isinstance(item, kind):
            raise ExportError(f"{where}.{name} must be a {kind.__name__}, not {item!r:.40}")


def parse_clip(value: object, where: str) -> dict[str, object]:
    """A clip object with exactly the format's fields, valid ids and HH:MM:SS.mmm times."""
    if not isinstance(value, dict):
        raise ExportError(f"{where} must be a JSON object")
    missing = [f for f in CLIP_FIELDS if f not in value]
    unknown = sorted(str(k) for k in value if k not in CLIP_FIELDS)
    if missing or unknown:
        raise ExportError(f"{where}: missing fields {missing}, unknown fields {unknown}")
    typed_fields(value, dict.fromkeys(CLIP_FIELDS[2:8], str), where)
    for name in ("jp_clip", "en_clip"):
        check_clip_id(value[name], f"{where}.{name}")
    speakers = value["speakers"]
    if not isinstance(speakers, list) or not all(isinstance(s, str) for s in speakers):
        raise ExportError(f"{where}.speakers must be a list of strings")
    for start, end in TIME_PAIRS:
        try:
            a, b = parse_time(str(value[start])), parse_time(str(value[end]))
        except ValueError as exc:
            raise ExportError(f"{where}: {exc}") from None
        if b < a:
            raise ExportError(f"{where}: {end} {value[end]} is before {start} {value[start]}")
    return {name: value[name] for name in CLIP_FIELDS}


def parse_file_entry(value: object, episode_id: str, where: str) -> dict[str, object]:
    """A "files" entry: a media path that matches its clip id, kind and language."""
    if not isinstance(value, dict):
        raise ExportError(f"{where} must be a JSON object")
    typed_fields(value, FILE_FIELDS, where)
    typed_fields(
        {k: v for k, v in value.items() if k in OPTIONAL_FILE_FIELDS},
        {k: t for k, t in OPTIONAL_FILE_FIELDS.items() if k in value},
        where,
    )
    odd = sorted(str(k) for k, v in value.items() if not isinstance(v, str | int | float))
    if odd:  # extra fields are carried into the manifest, but only as plain values
        raise ExportError(f"{where}.{odd[0]} must be a string or a number")
    kind, clip = str(value["kind"]), check_clip_id(value["clip"], f"{where}.clip")
    if kind not in MEDIA:
        raise ExportError(f"{where}.kind must be audio or video, not {kind!r:.20}")
    if value["path"] != media_path(kind, clip):
        raise ExportError(f"{where}.path {value['path']!r:.80} is not {media_path(kind, clip)}")
    if value["language"] not in ("ja", "en"):
        raise ExportError(f"{where}.language must be ja or en")
    check_file_numbers(value, episode_id, where)
    return dict(value)


def check_file_numbers(value: Mapping[str, object], episode_id: str, where: str) -> None:
    """The fields every listed file shares: its episode, a sha256 and positive sizes."""
    if value["episode_id"] != episode_id:
        raise ExportError(f"{where}.episode_id is not the fragment's {episode_id}")
    if not SHA256_HEX.fullmatch(str(value["sha256"])):
        raise ExportError(f"{where}.sha256 must be 64 lowercase hex digits")
    for name in ("bytes", "duration_ms", *(k for k in OPTIONAL_FILE_FIELDS if k in value)):
        number = value[name]
        if not isinstance(number, int) or number <= 0:
            raise ExportError(f"{where}.{name} must be positive, not {number}")


def _check_references(
    clips: list[dict[str, object]], files: list[dict[str, object]], where: str
) -> None:
    """Every clip has its audio files (and video, when the episode has any); no extra files."""
    paths = {str(f["path"]) for f in files}
    kinds = ["audio"] + (["video"] if any(f["kind"] == "video" for f in files) else [])
    wanted: set[str] = set()
    for i, clip in enumerate(clips):
        for name in ("jp_clip", "en_clip"):
            for kind in kinds:
                path = media_path(kind, str(clip[name]))
                if path not in paths:
                    raise ExportError(f"{where}.clips[{i}].{name}: no {kind} file {path} in files")
                wanted.add(path)
    extra = sorted(paths - wanted)
    if extra:
        raise ExportError(f"{where}: files lists {extra[0]} that no clip references")


def parse_fragment(value: object, where: str) -> Fragment:
    """A fragment checked completely; ExportError naming `where` and the field otherwise."""
    if not isinstance(value, dict):
        raise ExportError(f"{where} is not a JSON object")
    if value.get("format") != FRAGMENT_FORMAT:
        raise ExportError(
            f"{where}: format must be {FRAGMENT_FORMAT}, not {value.get('format')!r:.40}"
        )
    try:
        episode_id = check_id(str(value.get("episode_id", "")), "episode_id")
        show = normalize_show(_obj(value, "show", where), f"{where}.show")
        info = normalize_episode_info(_obj(value, "episode", where), f"{where}.episode")
    except ExportError:
        raise
    except InvalidInputError as exc:
        raise ExportError(f"{where}: {exc}") from None
    number = value.get("episode_number")
    if not isinstance(number, str) or not number.strip() or len(number) > 32:
        raise ExportError(f"{where}.episode_number must be a short non-empty string")
    raw_clips = _obj(value, "episode", where).get("clips")
    if not isinstance(raw_clips, list):
        raise ExportError(f"{where}.episode.clips must be a list")
    clips = [parse_clip(c, f"{where}.episode.clips[{i}]") for i, c in enumerate(raw_clips)]
    raw_files = value.get("files")
    if not isinstance(raw_files, list):
        raise ExportError(f"{where}.files must be a list")
    files = sorted(
        (parse_file_entry(f, episode_id, f"{where}.files[{i}]") for i, f in enumerate(raw_files)),
        key=lambda f: str(f["path"]),
    )
    _check_references(clips, files, f"{where}.episode")
    provenance = value.get("provenance", {})
    if not isinstance(provenance, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in provenance.items()
    ):
        raise ExportError(f"{where}.provenance must map task names to backend strings")
    show["characters"] = dict(sorted(dict(show["characters"]).items()))  # type: ignore[call-overload]
    episode = {k: info[k] for k in EPISODE_ORDER} | {"clips": clips}
    return Fragment(
        episode_id, number, show, episode, tuple(files), dict(sorted(provenance.items()))
    )


def _obj(value: Mapping[str, object], name: str, where: str) -> dict[str, object]:
    item = value.get(name)
    if not isinstance(item, dict):
        raise ExportError(f"{where}.{name} must be a JSON object")
    return item


def manifest_line(entry: Mapping[str, object], provenance: Mapping[str, str]) -> bytes:
    """One manifest.jsonl line: the file entry plus the backends that made it."""
    return canonical_json({**entry, "provenance": dict(provenance)}) + b"\n"


def dumps(value: object) -> str:
    """Compact JSON that keeps the key order it is given (the format's field order)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class EpisodeEntry:
    """Where one episode sits in the plan; `source` is the caller's handle to load it again."""

    number: str
    episode_id: str
    source: str
    num_clips: int


@dataclass(frozen=True)
class ShowEntry:
    split: str
    show: dict[str, object]
    episodes: tuple[EpisodeEntry, ...]


@dataclass(frozen=True)
class Plan:
    """The annotations' shape: shows in split order, then by (show, season)."""

    shows: tuple[ShowEntry, ...]
    warnings: tuple[str, ...]

    @property
    def num_episodes(self) -> int:
        return sum(len(s.episodes) for s in self.shows)

    def clips_per_split(self) -> dict[str, int]:
        counts = dict.fromkeys(SPLITS, 0)
        for s in self.shows:
            counts[s.split] += sum(e.num_clips for e in s.episodes)
        return counts


class Catalogue:
    """Fragments gathered one at a time (only their show metadata and counts are kept)."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], dict[str, tuple[EpisodeEntry, str]]] = {}
        self._shows: dict[str, dict[str, object]] = {}

    def add(self, fragment: Fragment, source: str) -> None:
        key = (str(fragment.show["show"]), str(fragment.show["season"]))
        group = self._groups.setdefault(key, {})
        other = group.get(fragment.number)
        if other is not None and other[0].episode_id != fragment.episode_id:
            raise ExportError(
                f"show {key[0]!r:.80} season {key[1]!r:.20} episode {fragment.number!r:.20} "
                f"comes from two fragments, {other[0].episode_id} and {fragment.episode_id}; "
                "delete the wrong one under episodes/ and export again"
            )
        digest = sha256_hex(canonical_json(fragment.show))
        self._shows.setdefault(digest, fragment.show)
        entry = EpisodeEntry(fragment.number, fragment.episode_id, source, len(fragment.clips))
        group[fragment.number] = (entry, digest)

    def plan(self, ratios: tuple[float, float, float]) -> Plan:
        shows: list[ShowEntry] = []
        warnings: list[str] = []
        for (name, season), group in self._groups.items():
            numbers = sorted(group, key=natural_key)
            chosen = group[numbers[-1]][1]
            differing = [n for n in numbers if group[n][1] != chosen]
            if differing:
                warnings.append(
                    f"show {name!r:.80} season {season!r:.20}: show metadata of episodes "
                    f"{', '.join(differing)} differs from episode {numbers[-1]}'s, which is used"
                )
            episodes = tuple(group[n][0] for n in numbers)
            shows.append(ShowEntry(split_of(name, ratios), self._shows[chosen], episodes))
        shows.sort(
            key=lambda s: (
                SPLITS.index(s.split),
                str(s.show["show"]),
                natural_key(str(s.show["season"])),
            )
        )
        return Plan(tuple(shows), tuple(sorted(warnings)))


def annotation_chunks(plan: Plan, load: Callable[[EpisodeEntry], Fragment]) -> Iterator[str]:
    """anim400k_annotations.json as text pieces, one episode in memory at a time."""
    yield "{"
    for i, split in enumerate(SPLITS):
        yield f'{"," if i else ""}"{split}":['
        first = True
        for show in plan.shows:
            if show.split != split:
                continue
            head = dumps(show.show)
            yield f'{"" if first else ","}{head[:-1]},"episodes":{{'
            first = False
            for k, entry in enumerate(show.episodes):
                fragment = load(entry)
                if fragment.episode_id != entry.episode_id:
                    raise ExportError(f"{entry.source} changed while the dataset was exported")
                yield f"{',' if k else ''}{dumps(entry.number)}:{dumps(fragment.episode)}"
            yield "}}"
        yield "]"
    yield "}"
