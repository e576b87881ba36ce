"""Export's writers: the manifest sorted in bounded memory, the archives, the lhotse files."""

from __future__ import annotations

import gzip
import json
import tarfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from dubset_common.errors import IntegrityError
from dubset_common.keys import file_sha256, join_key
from dubset_common.objstore import ObjectInfo, ObjectStore
from dubset_packaging.core.baseline import BASELINE_KIND
from dubset_packaging.core.export import MEDIA, EpisodeEntry, ExportError, Fragment, manifest_line
from dubset_packaging.core.faces import FACE_KINDS
from dubset_packaging.core.lhotse import AudioInfo, entry_audio_info, lhotse_rows, mp3_audio_info

Hook = Callable[[float, str], None]
MAX_PROBE_BYTES = 64 * 1024 * 1024
LHOTSE = ("recordings", "supervisions", "cuts")
ARCHIVES = {kind: f"{folder}.tar.gz" for kind, (folder, _) in MEDIA.items()}


class ManifestSorter:
    """Manifest lines bucketed on disk by folder and first id character, then sorted per bucket
    (buckets in folder order, so the manifest is sorted by path): memory holds one bucket (1/32
    of the audio or video lines), not the whole catalogue."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self._stack = ExitStack()
        self._handles: dict[str, IO[bytes]] = {}
        self._kinds: dict[str, str] = {}

    def add(self, entries: Iterable[Mapping[str, object]], provenance: Mapping[str, str]) -> None:
        for entry in entries:
            path = str(entry["path"])
            folder, clip_folder = path.split("/")[:2]
            bucket = f"{folder}-{clip_folder[0]}"
            fh = self._handles.get(bucket)
            if fh is None:
                fh = self._stack.enter_context((self.folder / bucket).open("wb"))
                self._handles[bucket] = fh
                self._kinds[bucket] = str(entry["kind"])
            fh.write(path.encode() + b"\t" + manifest_line(entry, provenance))

    def write(self, target: Path) -> dict[str, int]:
        """The sorted manifest; returns the number of files per kind."""
        self._stack.close()
        # Per kind (a bucket holds one kind, but for the face clips and their full-frame spans).
        counts = dict.fromkeys((*MEDIA, BASELINE_KIND, *FACE_KINDS), 0)
        with target.open("wb") as out:
            for bucket in sorted(self._handles):
                lines = sorted((self.folder / bucket).read_bytes().splitlines(keepends=True))
                previous = b""
                for line in lines:
                    path, _, rest = line.partition(b"\t")
                    if path == previous:
                        raise ExportError(f"{path.decode()} is listed by two fragments")
                    previous = path
                    out.write(rest)
                counts[self._kinds[bucket]] += len(lines)
        return counts


def _manifest_paths(manifest: Path, kind: str) -> Iterator[dict[str, object]]:
    with manifest.open("rb") as fh:
        for line in fh:
            entry = json.loads(line)
            if entry["kind"] == kind:
                yield entry


def write_archive(
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


def write_lhotse(
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
