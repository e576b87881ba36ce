"""Export's view of datasets/<name>/quality/: the current quality fragment of an episode, and
the media a filtered export copies into its own dataset."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from dubset_common.clipquality import QUALITY_FOLDER, QUALITY_FORMAT
from dubset_common.keys import join_key
from dubset_common.objstore import ObjectStore
from dubset_packaging.baselines import read_current
from dubset_packaging.core.export import Fragment
from dubset_packaging.core.quality import Dropped, Scored, parse_quality

DROPPED = "dropped.jsonl"


def quality_key(root: str, episode_id: str) -> str:
    return join_key(root, QUALITY_FOLDER, f"{episode_id}.json")


def read_quality(
    store: ObjectStore,
    key: str,
    fragment: Fragment,
    fragment_sha256: str,
    local: Path,
    max_bytes: int,
    warnings: list[str],
) -> Scored | None:
    """The pairs' signals when the quality fragment was made from exactly this episode
    fragment; None when deleted or stale (with a warning), ExportError when malformed."""
    value = read_current(store, key, fragment, fragment_sha256, local, max_bytes, warnings,
                         QUALITY_FORMAT, "quality signals", "the quality stage")  # fmt: skip
    if value is None:
        return None
    assert isinstance(value, dict)  # read_current checked the head of an object
    return parse_quality(value, key, fragment)


def copy_media(
    store: ObjectStore, source_root: str, root: str, manifest: Path, folders: Iterable[str]
) -> int:
    """Every file of the manifest copied from source_root into root (the store copies), and
    files of root's media folders the manifest no longer lists removed; the files copied."""
    listed: set[str] = set()
    with manifest.open("rb") as fh:
        for line in fh:
            listed.add(str(json.loads(line)["path"]))
    for path in sorted(listed):
        store.copy(join_key(source_root, path), join_key(root, path))
    for folder in folders:
        for key in store.list(join_key(root, folder)):
            if key[len(root) + 1 :] not in listed:
                store.delete(key)
    return len(listed)


def write_dropped(store: ObjectStore, root: str, dropped: Iterable[Dropped], tmp: Path) -> int:
    """datasets/<to>/dropped.jsonl: each pair left out and why, in episode and clip order."""
    rows = sorted(dropped, key=lambda d: (d.episode_id, d.jp_clip))
    local = tmp / DROPPED
    with local.open("w", encoding="utf-8") as fh:
        for d in rows:
            fh.write(json.dumps(d.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
    store.put_file(join_key(root, DROPPED), local, "application/x-ndjson")
    return len(rows)


def fragment_json(fragment: Fragment, number: str) -> dict[str, object]:
    """A (filtered) fragment as the JSON parse_fragment reads back."""
    return {
        "format": "dubset-dataset-episode/1",
        "episode_id": fragment.episode_id,
        "episode_number": number,
        "show": fragment.show,
        "episode": fragment.episode,
        "files": list(fragment.files),
        "provenance": dict(fragment.provenance),
    }
