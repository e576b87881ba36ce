"""`verify`: an exported dataset checked against its manifest and the Anim-400K schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from dubset_common.errors import NotFoundError
from dubset_packaging.core.verify import (
    ANNOTATIONS,
    MANIFEST,
    Problem,
    check_annotations,
    parse_manifest_line,
    reference_problems,
)
from dubset_packaging.datasetfiles import DatasetFiles

Hook = Callable[[float, str], None]


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    files_checked: int
    problems: tuple[Problem, ...]


def _quiet(fraction: float, message: str) -> None:
    del fraction, message


def _read_manifest(files: DatasetFiles, problems: list[Problem]) -> dict[str, dict[str, object]]:
    manifest: dict[str, dict[str, object]] = {}
    with files.local(MANIFEST) as path, path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            entry = parse_manifest_line(raw, lineno)
            if isinstance(entry, Problem):
                problems.append(entry)
            elif str(entry["path"]) in manifest:
                detail = f"line {lineno}: {entry['path']} is listed twice"
                problems.append(Problem("invalid_annotations", MANIFEST, detail))
            else:
                manifest[str(entry["path"])] = entry
    return manifest


def _read_annotations(files: DatasetFiles, problems: list[Problem]) -> set[str]:
    with files.local(ANNOTATIONS) as path:
        try:
            value = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem("invalid_annotations", ANNOTATIONS, f"not JSON: {exc}"))
            return set()
    annotated = check_annotations(value)
    problems.extend(annotated.problems)
    return annotated.clip_ids


def verify_dataset(
    files: DatasetFiles, skip_checksums: bool = False, hook: Hook | None = None
) -> VerifyReport:
    """Every referenced file present with its manifest size and sha256, every media file listed
    and referenced, and the annotations well-formed."""
    report = hook or _quiet
    report(0.0, "listing files")
    listed = set(files.list())
    problems: list[Problem] = []
    manifest: dict[str, dict[str, object]] = {}
    clip_ids: set[str] = set()
    for name in (MANIFEST, ANNOTATIONS):
        if name not in listed:
            problems.append(Problem("missing", name, "the dataset has no such file"))
    if MANIFEST in listed:
        report(0.02, "reading the manifest")
        manifest = _read_manifest(files, problems)
    if ANNOTATIONS in listed:
        report(0.05, "reading the annotations")
        clip_ids = _read_annotations(files, problems)
    problems.extend(reference_problems(listed, manifest, clip_ids))
    present = [(p, e) for p, e in sorted(manifest.items()) if p in listed]
    step = "checking sizes" if skip_checksums else "checking checksums"
    report(0.1, step)
    for i, (path, entry) in enumerate(present):
        try:
            size = files.size(path)
            if size != entry["bytes"]:
                detail = f"{size} bytes, the manifest says {entry['bytes']}"
                problems.append(Problem("size_mismatch", path, detail))
            elif not skip_checksums and files.sha256(path) != entry["sha256"]:
                problems.append(
                    Problem("checksum_mismatch", path, "sha256 differs from the manifest")
                )
        except NotFoundError:
            problems.append(Problem("missing", path, "disappeared while verifying"))
        if i % 100 == 99:
            report(0.1 + 0.9 * (i + 1) / len(present), step)
    report(1.0, step)
    return VerifyReport(
        not problems, len(present), tuple(sorted(problems, key=lambda p: (p.path, p.kind)))
    )
