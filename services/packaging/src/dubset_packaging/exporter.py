"""`export`: the episode fragments of a dataset in the store into its published files."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dubset_common.keys import check_id, file_sha256, join_key
from dubset_common.objstore import ObjectInfo, ObjectStore
from dubset_packaging.baselines import (
    baseline_key,
    list_baselines,
    list_fragments,
    orphan_warnings,
    read_baseline,
)
from dubset_packaging.core.baseline import BASELINE_DIR, BASELINE_KIND
from dubset_packaging.core.export import (
    MEDIA,
    Catalogue,
    EpisodeEntry,
    ExportError,
    Fragment,
    annotation_chunks,
    parse_fragment,
)
from dubset_packaging.core.faces import ANIVID_ANNOTATIONS, FACES_DIRS, FACES_SIDECAR
from dubset_packaging.core.splits import DEFAULT_RATIOS, check_ratios
from dubset_packaging.exportwriters import (
    ARCHIVES,
    LHOTSE,
    ManifestSorter,
    write_archive,
    write_lhotse,
)
from dubset_packaging.facesfragments import (
    FACES_FOLDER,
    faces_key,
    read_faces,
    write_faces_doc,
    write_part,
)

Hook = Callable[[float, str], None]
MAX_FRAGMENT_BYTES = 256 * 1024 * 1024
ANNOTATIONS = "anim400k_annotations.json"
MANIFEST = "manifest.jsonl"


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
    num_baseline_clips: int = 0


def _quiet(fraction: float, message: str) -> None:
    del fraction, message


def _load(path: Path, where: str) -> Fragment:
    try:
        value = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{where} is not valid JSON: {exc}") from None
    return parse_fragment(value, where)


def _read_fragments(
    store: ObjectStore, root: str, tmp: Path, report: Hook, warnings: list[str]
) -> tuple[Catalogue, ManifestSorter, list[Path]]:
    """Every fragment copied to tmp, validated and its manifest lines bucketed, with those of
    its baseline fragment when that was made from these very bytes; only show metadata and
    counts stay in memory. The media are checked afterwards (_check_media)."""
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
    catalogue, sorter = Catalogue(), ManifestSorter(tmp / "manifest-parts")
    baselines, used = list_baselines(store, root), set()
    faces_keys, faces_used = list_fragments(store, root, FACES_FOLDER), set()
    faces_parts: list[Path] = []
    for i, key in enumerate(keys):
        local = tmp / "fragments" / f"{i}.json"
        if store.size(key) > MAX_FRAGMENT_BYTES:
            raise ExportError(f"{key} is over {MAX_FRAGMENT_BYTES} bytes")
        store.get_file(key, local)  # a snapshot: the later passes read this copy
        fragment = _load(local, key)
        if f"{fragment.episode_id}.json" != key.rsplit("/", 1)[1]:
            raise ExportError(f"{key} holds episode_id {fragment.episode_id}, not its file name")
        catalogue.add(fragment, str(local))
        sorter.add(fragment.files, fragment.provenance)
        bkey = baseline_key(root, fragment.episode_id)
        if bkey in baselines:
            used.add(bkey)
            copy = tmp / "baseline.json"
            baseline = read_baseline(
                store, bkey, fragment, file_sha256(local), copy, MAX_FRAGMENT_BYTES, warnings
            )
            if baseline is not None:
                sorter.add(baseline.files, fragment.provenance | baseline.provenance)
        fkey = faces_key(root, fragment.episode_id)
        if fkey in faces_keys:
            faces_used.add(fkey)
            faces = read_faces(store, fkey, fragment, file_sha256(local), tmp / "faces.json",
                               MAX_FRAGMENT_BYTES, warnings)  # fmt: skip
            if faces is not None:
                sorter.add(faces.files, fragment.provenance | faces.provenance)
                faces_parts.append(write_part(tmp / "faces-parts", faces, fragment))
        report(0.3 * (i + 1) / len(keys), "reading episode fragments")
    warnings.extend(orphan_warnings(baselines, used))
    warnings.extend(orphan_warnings(faces_keys, faces_used, "face clips"))
    return catalogue, sorter, faces_parts


def _check_media(store: ObjectStore, root: str, manifest: Path, report: Hook) -> None:
    """Every file of the manifest (the fragments as read) is in the store. The media are listed
    only now, after the fragments were read: packaging stores an episode's files before its
    fragment, so a file a fragment names is listed unless it was really removed. A path the
    listing lacks is looked up once more before the export is refused."""
    report(0.3, "checking media")
    stored: set[str] = set()
    for folder in (*(f for f, _ in MEDIA.values()), BASELINE_DIR, *FACES_DIRS):
        stored.update(k[len(root) + 1 :] for k in store.list(join_key(root, folder)))
    with manifest.open("rb") as fh:
        for line in fh:
            entry = json.loads(line)
            path = str(entry["path"])
            if path not in stored and not store.exists(join_key(root, path)):
                episode = entry["episode_id"]
                if entry["kind"] == BASELINE_KIND:
                    raise ExportError(
                        f"{baseline_key(root, episode)} references {path}, which is not in the "
                        f"store; run the tts stage for episode {episode} again (or delete "
                        "that baseline fragment)"
                    )
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
        read_warnings: list[str] = []
        catalogue, sorter, faces_parts = _read_fragments(store, root, tmp, report, read_warnings)
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
        for name, doc in ((ANIVID_ANNOTATIONS, "anivid"), (FACES_SIDECAR, "speaking")):
            if faces_parts:
                local = write_faces_doc(tmp / name, faces_parts, doc)
                store.put_file(join_key(root, name), local, "application/json")
            else:
                _drop_stale(store, join_key(root, name), read_warnings)
        warnings = list(plan.warnings) + sorted(read_warnings)
        archives: list[ObjectInfo] = []
        for kind in MEDIA:
            if options.archives and counts[kind]:
                archives.append(
                    write_archive(
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
            lhotse = write_lhotse(
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
        num_baseline_clips=counts[BASELINE_KIND],
    )
