"""`export`: the episode fragments of a dataset in the store into its published files."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dubset_common.clipquality import QUALITY_FOLDER, Thresholds
from dubset_common.keys import canonical_json, check_id, file_sha256, join_key
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
from dubset_packaging.core.quality import Dropped, Scored, apply_filter, with_quality
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
from dubset_packaging.qualityfragments import (
    copy_media,
    fragment_json,
    quality_key,
    read_quality,
    write_dropped,
)

Hook = Callable[[float, str], None]
MAX_FRAGMENT_BYTES = 256 * 1024 * 1024
ANNOTATIONS = "anim400k_annotations.json"
MANIFEST = "manifest.jsonl"


@dataclass(frozen=True)
class ExportOptions:
    """to: with thresholds, the dataset the kept clip pairs are written to (their media copied
    there), never the source dataset itself."""

    dataset: str
    splits: tuple[float, float, float] = DEFAULT_RATIOS
    archives: bool = False
    lhotse: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    to: str = ""


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
    num_scored_clips: int = 0  # clip pairs with quality signals
    dropped: tuple[Dropped, ...] = ()  # a filtered export: the pairs left out, and why


def _quiet(fraction: float, message: str) -> None:
    del fraction, message


def _load(path: Path, where: str) -> Fragment:
    try:
        value = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{where} is not valid JSON: {exc}") from None
    return parse_fragment(value, where)


@dataclass
class _Read:
    """What the pass over the fragments gathered."""

    catalogue: Catalogue
    sorter: ManifestSorter
    faces_parts: list[Path] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    scored: int = 0


def _read_fragments(
    store: ObjectStore,
    root: str,
    tmp: Path,
    report: Hook,
    warnings: list[str],
    thresholds: Thresholds | None,
) -> _Read:
    """Every fragment copied to tmp, validated and its manifest lines bucketed (with their
    pairs' quality signals), with those of its baseline and faces fragments when made from these
    very bytes; only show metadata and counts stay in memory. With thresholds, each fragment
    is cut down to the pairs that pass (its copy rewritten) and faces are left out. The media
    are checked afterwards (_check_media)."""
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
    out = _Read(Catalogue(), ManifestSorter(tmp / "manifest-parts"))
    baselines, used = list_baselines(store, root), set()
    faces_keys, faces_used = list_fragments(store, root, FACES_FOLDER), set()
    quality_keys, quality_used = list_fragments(store, root, QUALITY_FOLDER), set()
    for i, key in enumerate(keys):
        local = tmp / "fragments" / f"{i}.json"
        if store.size(key) > MAX_FRAGMENT_BYTES:
            raise ExportError(f"{key} is over {MAX_FRAGMENT_BYTES} bytes")
        store.get_file(key, local)  # a snapshot: the later passes read this copy
        fragment = _load(local, key)
        if f"{fragment.episode_id}.json" != key.rsplit("/", 1)[1]:
            raise ExportError(f"{key} holds episode_id {fragment.episode_id}, not its file name")
        digest = file_sha256(local)
        original = fragment
        qkey = quality_key(root, fragment.episode_id)
        quality = None
        if qkey in quality_keys:
            quality_used.add(qkey)
            quality = read_quality(store, qkey, fragment, digest, tmp / "quality.json",
                                   MAX_FRAGMENT_BYTES, warnings)  # fmt: skip
        if thresholds is not None:
            fragment = _filtered(fragment, quality, thresholds, local, out)
        out.scored += len(quality or {})
        kept = {str(f["clip"]) for f in fragment.files}
        out.catalogue.add(fragment, str(local))
        out.sorter.add(with_quality(fragment.files, fragment, quality or {}), fragment.provenance)
        bkey = baseline_key(root, fragment.episode_id)
        if bkey in baselines:
            used.add(bkey)
            copy = tmp / "baseline.json"
            baseline = read_baseline(store, bkey, original, digest, copy, MAX_FRAGMENT_BYTES,
                                     warnings)  # fmt: skip
            if baseline is not None:
                files = [f for f in baseline.files if str(f["clip"]) in kept]
                out.sorter.add(with_quality(files, original, quality or {}),
                               fragment.provenance | baseline.provenance)  # fmt: skip
        fkey = faces_key(root, fragment.episode_id)
        if fkey in faces_keys and thresholds is None:
            faces_used.add(fkey)
            _add_faces(store, fkey, fragment, digest, tmp, out, warnings)
        report(0.3 * (i + 1) / len(keys), "reading episode fragments")
    warnings.extend(orphan_warnings(baselines, used))
    if thresholds is None:
        warnings.extend(orphan_warnings(faces_keys, faces_used, "face clips"))
    elif faces_keys:
        warnings.append("face clips are not part of a filtered export")
    warnings.extend(orphan_warnings(quality_keys, quality_used, "quality signals"))
    return out


def _add_faces(
    store: ObjectStore,
    key: str,
    fragment: Fragment,
    digest: str,
    tmp: Path,
    out: _Read,
    warnings: list[str],
) -> None:
    faces = read_faces(store, key, fragment, digest, tmp / "faces.json", MAX_FRAGMENT_BYTES,
                       warnings)  # fmt: skip
    if faces is not None:
        out.sorter.add(faces.files, fragment.provenance | faces.provenance)
        out.faces_parts.append(write_part(tmp / "faces-parts", faces, fragment))


def _filtered(
    fragment: Fragment,
    quality: Scored | None,
    thresholds: Thresholds,
    local: Path,
    out: _Read,
) -> Fragment:
    """The fragment cut down to the pairs that pass, its copy at local rewritten to match."""
    kept, dropped = apply_filter(fragment, quality, thresholds)
    out.dropped.extend(dropped)
    local.write_bytes(canonical_json(fragment_json(kept, kept.number)))
    return kept


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

    source = join_key("datasets", check_id(options.dataset, "dataset name"))
    thresholds = options.thresholds if options.thresholds.active else None
    root = _target(options, source, thresholds)
    ratios = check_ratios(options.splits)
    with tempfile.TemporaryDirectory(prefix="dubset-export-") as tmp_name:
        tmp = Path(tmp_name)
        read_warnings: list[str] = []
        read = _read_fragments(store, source, tmp, report, read_warnings, thresholds)
        catalogue, sorter, faces_parts = read.catalogue, read.sorter, read.faces_parts
        plan = catalogue.plan(ratios)
        manifest_file = tmp / MANIFEST
        counts = sorter.write(manifest_file)
        _check_media(store, source, manifest_file, report)
        if thresholds is not None:
            report(0.35, "copying the kept clips")
            folders = (*(f for f, _ in MEDIA.values()), BASELINE_DIR, *FACES_DIRS)
            copy_media(store, source, root, manifest_file, folders)
            write_dropped(store, root, read.dropped, tmp)
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
        num_scored_clips=read.scored,
        dropped=tuple(read.dropped),
    )


def _target(options: ExportOptions, source: str, thresholds: Thresholds | None) -> str:
    """Where the export is written: the dataset itself, or for a filtered one `to`."""
    if thresholds is None:
        if options.to:
            raise ExportError("--to names the dataset of a filtered export: give a threshold")
        return source
    if not options.to:
        raise ExportError(
            "a filtered export is written to a dataset of its own: name it (--to), so the "
            "source dataset stays complete"
        )
    target = join_key("datasets", check_id(options.to, "dataset name"))
    if target == source:
        raise ExportError("a filtered export cannot overwrite its source dataset; pick --to")
    return target
