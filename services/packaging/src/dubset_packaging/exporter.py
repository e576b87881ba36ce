"""`export`: the episode fragments of a dataset in the store into its published files."""

from __future__ import annotations

import gzip
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from dubset_common.errors import IntegrityError
from dubset_common.keys import check_id, file_sha256, join_key
from dubset_common.objstore import ObjectInfo, ObjectStore
from dubset_packaging.core.export import (
    MEDIA,
    Catalogue,
    EpisodeEntry,
    ExportError,
    Fragment,
    annotation_chunks,
    manifest_line,
    parse_fragment,
)
from dubset_packaging.core.lhotse import AudioInfo, entry_audio_info, lhotse_rows, mp3_audio_info
from dubset_packaging.core.splits import DEFAULT_RATIOS, check_ratios

Hook = Callable[[float, str], None]
MAX_FRAGMENT_BYTES = 256 * 1024 * 1024
MAX_PROBE_BYTES = 64 * 1024 * 1024
ANNOTATIONS = "anim400k_annotations.json"
MANIFEST = "manifest.jsonl"
LHOTSE = ("recordings", "supervisions", "cuts")
ARCHIVES = {kind: f"{folder}.tar.gz" for kind, (folder, _) in MEDIA.items()}


@dataclass(frozen=True)
class ExportOptions:
    dataset: str
    splits: tuple[float, float, float] = DEFAULT_RATIOS
    archives: bool = False
    lhotse: bool = False


@dataclass(frozen=True)
class ExportSummary:
    dataset_uri: str
    annotations: ObjectInfo
    manifest: ObjectInfo
    archives: tuple[ObjectInfo, ...]
    lhotse: tuple[ObjectInfo, ...]
    num_shows: int
    num_episodes: int
    num_clips: int
    clips_per_split: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _quiet(fraction: float, message: str) -> None:
    del fraction, message


def _load(path: Path, where: str) -> Fragment:
    try:
        value = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{where} is not valid JSON: {exc}") from None
    return parse_fragment(value, where)


class _ManifestSorter:
    """Manifest lines bucketed on disk by folder and first id character, then sorted per bucket:
    memory holds one bucket (1/32 of the manifest), not the whole catalogue."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self._stack = ExitStack()
        self._handles: dict[str, IO[bytes]] = {}

    def add(self, fragment: Fragment) -> None:
        for entry in fragment.files:
            path = str(entry["path"])
            bucket = f"{entry['kind']}-{path.split('/')[1][0]}"
            fh = self._handles.get(bucket)
            if fh is None:
                fh = self._stack.enter_context((self.folder / bucket).open("wb"))
                self._handles[bucket] = fh
            fh.write(path.encode() + b"\t" + manifest_line(entry, fragment.provenance))

    def write(self, target: Path) -> dict[str, int]:
        """The sorted manifest; returns the number of files per kind."""
        self._stack.close()
        counts = dict.fromkeys(MEDIA, 0)
        with target.open("wb") as out:
            for bucket in sorted(self._handles, key=lambda b: (list(MEDIA).index(b[:5]), b)):
                lines = sorted((self.folder / bucket).read_bytes().splitlines(keepends=True))
                previous = b""
                for line in lines:
                    path, _, rest = line.partition(b"\t")
                    if path == previous:
                        raise ExportError(f"{path.decode()} is listed by two episode fragments")
                    previous = path
                    out.write(rest)
                counts[bucket[:5]] += len(lines)
        return counts


def _manifest_paths(manifest: Path, kind: str) -> Iterator[dict[str, object]]:
    with manifest.open("rb") as fh:
        for line in fh:
            entry = json.loads(line)
            if entry["kind"] == kind:
                yield entry


def _write_archive(
    store: ObjectStore, root: str, kind: str, manifest: Path, tmp: Path, hook: Hook, total: int
) -> ObjectInfo:
    """A tar.gz of the media of one kind: sorted members, zeroed owners and times, each member
    checked against its manifest checksum on the way in."""
    target, member = tmp / ARCHIVES[kind], tmp / "member"
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for i, entry in enumerate(_manifest_paths(manifest, kind)):
            path = str(entry["path"])
            store.get_file(join_key(root, path), member)
            if file_sha256(member) != entry["sha256"]:
                raise IntegrityError(f"{path} does not match its checksum; re-run its packaging")
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = member.stat().st_size, 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with member.open("rb") as fh:
                tar.addfile(info, fh)
            if i % 200 == 0:
                hook(i / max(total, 1), f"writing {ARCHIVES[kind]}")
    member.unlink(missing_ok=True)
    return store.put_file(join_key(root, ARCHIVES[kind]), target, "application/gzip")


def _write_lhotse(
    store: ObjectStore,
    root: str,
    plan_shows: list[tuple[str, EpisodeEntry]],
    load: Callable[[EpisodeEntry], Fragment],
    tmp: Path,
    hook: Hook,
) -> tuple[ObjectInfo, ...]:
    def probe(entry: Mapping[str, object]) -> AudioInfo:
        stated = entry_audio_info(entry)
        if stated is not None:
            return stated
        data = store.get_bytes(join_key(root, str(entry["path"])), MAX_PROBE_BYTES)
        try:
            return mp3_audio_info(data)
        except ExportError as exc:
            raise ExportError(f"{entry['path']}: {exc}") from None

    paths = {name: tmp / f"{name}.jsonl.gz" for name in LHOTSE}
    with ExitStack() as stack:
        out = {
            name: stack.enter_context(
                gzip.GzipFile(
                    filename="", mode="wb", mtime=0, fileobj=stack.enter_context(path.open("wb"))
                )
            )
            for name, path in paths.items()
        }
        for i, (split, entry) in enumerate(plan_shows):
            for rows in lhotse_rows(load(entry), split, probe):
                for name, row in zip(
                    LHOTSE, (rows.recording, rows.supervision, rows.cut), strict=True
                ):
                    out[name].write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
            hook(i / max(len(plan_shows), 1), "writing lhotse manifests")
    return tuple(
        store.put_file(
            join_key(root, "lhotse", f"{name}.jsonl.gz"), paths[name], "application/gzip"
        )
        for name in LHOTSE
    )


def _read_fragments(
    store: ObjectStore, root: str, tmp: Path, report: Hook
) -> tuple[Catalogue, _ManifestSorter]:
    """Every fragment copied to tmp, validated and its manifest lines bucketed; only show
    metadata and counts stay in memory. The media are checked afterwards (_check_media)."""
    keys = [
        k
        for k in store.list(join_key(root, "episodes"))
        if k.endswith(".json") and k.count("/") == 3
    ]
    if not keys:
        raise ExportError(
            f"dataset {root.split('/')[1]!r} has no episode fragments under {root}/episodes/; "
            "package some episodes into it first"
        )
    (tmp / "fragments").mkdir()
    catalogue, sorter = Catalogue(), _ManifestSorter(tmp / "manifest-parts")
    for i, key in enumerate(keys):
        local = tmp / "fragments" / f"{i}.json"
        if store.size(key) > MAX_FRAGMENT_BYTES:
            raise ExportError(f"{key} is over {MAX_FRAGMENT_BYTES} bytes")
        store.get_file(key, local)  # a snapshot: the later passes read this copy
        fragment = _load(local, key)
        if f"{fragment.episode_id}.json" != key.rsplit("/", 1)[1]:
            raise ExportError(f"{key} holds episode_id {fragment.episode_id}, not its file name")
        catalogue.add(fragment, str(local))
        sorter.add(fragment)
        report(0.3 * (i + 1) / len(keys), "reading episode fragments")
    return catalogue, sorter


def _check_media(store: ObjectStore, root: str, manifest: Path, report: Hook) -> None:
    """Every file of the manifest (the fragments as read) is in the store. The media are listed
    only now, after the fragments were read: packaging stores an episode's files before its
    fragment, so a file a fragment names is listed unless it was really removed. A path the
    listing lacks is looked up once more before the export is refused."""
    report(0.3, "checking media")
    stored: set[str] = set()
    for folder, _ in MEDIA.values():
        stored.update(k[len(root) + 1 :] for k in store.list(join_key(root, folder)))
    with manifest.open("rb") as fh:
        for line in fh:
            entry = json.loads(line)
            path = str(entry["path"])
            if path not in stored and not store.exists(join_key(root, path)):
                episode = entry["episode_id"]
                raise ExportError(
                    f"{root}/episodes/{episode}.json references {path}, which is not in the "
                    f"store; package episode {episode} again"
                )


def _load_entry(entry: EpisodeEntry) -> Fragment:
    return _load(Path(entry.source), entry.episode_id)


def _drop_stale(store: ObjectStore, key: str, warnings: list[str]) -> None:
    """An optional output of an earlier export that this one does not rewrite would be stale."""
    if store.exists(key):
        store.delete(key)
        warnings.append(f"removed {key} of an earlier export (stale now)")


def export_dataset(
    store: ObjectStore, options: ExportOptions, hook: Hook | None = None
) -> ExportSummary:
    """Publish datasets/<name>/: manifest.jsonl first, then the annotations, then archives and
    lhotse manifests on request. Refuses malformed or duplicate fragments and missing media."""
    step = ["reading episode fragments"]

    def report(fraction: float, message: str) -> None:
        step[0] = message
        (hook or _quiet)(fraction, message)

    root = join_key("datasets", check_id(options.dataset, "dataset name"))
    ratios = check_ratios(options.splits)
    with tempfile.TemporaryDirectory(prefix="dubset-export-") as tmp_name:
        tmp = Path(tmp_name)
        catalogue, sorter = _read_fragments(store, root, tmp, report)
        plan = catalogue.plan(ratios)
        manifest_file = tmp / MANIFEST
        counts = sorter.write(manifest_file)
        _check_media(store, root, manifest_file, report)
        report(0.45, "writing the manifest")
        manifest = store.put_file(join_key(root, MANIFEST), manifest_file, "application/x-ndjson")
        report(0.5, "writing the annotations")
        annotations_file = tmp / ANNOTATIONS
        with annotations_file.open("w", encoding="utf-8") as fh:
            for chunk in annotation_chunks(plan, _load_entry):
                fh.write(chunk)
        annotations = store.put_file(
            join_key(root, ANNOTATIONS), annotations_file, "application/json"
        )
        warnings = list(plan.warnings)
        archives: list[ObjectInfo] = []
        for kind in MEDIA:
            if options.archives and counts[kind]:
                archives.append(
                    _write_archive(
                        store,
                        root,
                        kind,
                        manifest_file,
                        tmp,
                        lambda f, m: report(0.6 + 0.2 * f, m),
                        counts[kind],
                    )
                )
            else:
                _drop_stale(store, join_key(root, ARCHIVES[kind]), warnings)
        lhotse: tuple[ObjectInfo, ...] = ()
        episodes = [(s.split, e) for s in plan.shows for e in s.episodes]
        if options.lhotse:
            lhotse = _write_lhotse(
                store, root, episodes, _load_entry, tmp, lambda f, m: report(0.8 + 0.2 * f, m)
            )
        else:
            for name in LHOTSE:
                _drop_stale(store, join_key(root, "lhotse", f"{name}.jsonl.gz"), warnings)
    report(1.0, step[0])  # the last step finished; no pseudo-step called "done"
    per_split = plan.clips_per_split()
    return ExportSummary(
        dataset_uri=store.uri(root),
        annotations=annotations,
        manifest=manifest,
        archives=tuple(archives),
        lhotse=lhotse,
        num_shows=len(plan.shows),
        num_episodes=plan.num_episodes,
        num_clips=sum(per_split.values()),
        clips_per_split=per_split,
        warnings=tuple(warnings),
    )
