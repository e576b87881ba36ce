"""Export's view of datasets/<name>/baseline/: the current baseline fragment of an episode."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from dubset_common.errors import NotFoundError
from dubset_common.keys import join_key
from dubset_common.objstore import ObjectStore
from dubset_packaging.core.baseline import BASELINE_FORMAT, Baseline, parse_baseline, read_head
from dubset_packaging.core.export import ExportError, Fragment

BASELINE_FOLDER = "baseline"


def baseline_key(root: str, episode_id: str) -> str:
    return join_key(root, BASELINE_FOLDER, f"{episode_id}.json")


def list_baselines(store: ObjectStore, root: str) -> set[str]:
    """The keys of the dataset's baseline fragments (datasets/<name>/baseline/<id>.json)."""
    return {
        k
        for k in store.list(join_key(root, BASELINE_FOLDER))
        if k.endswith(".json") and k.count("/") == 3
    }


def read_baseline(
    store: ObjectStore,
    key: str,
    fragment: Fragment,
    fragment_sha256: str,
    local: Path,
    max_bytes: int,
    warnings: list[str],
) -> Baseline | None:
    """The baseline fragment at key when it was made from exactly this episode fragment (by the
    sha256 of its bytes); a stale one is skipped with a warning, a malformed one refused."""
    value = read_current(store, key, fragment, fragment_sha256, local, max_bytes, warnings,
                         BASELINE_FORMAT, "baseline clips", "the tts stage")  # fmt: skip
    return None if value is None else parse_baseline(value, key, fragment)


def read_current(
    store: ObjectStore,
    key: str,
    fragment: Fragment,
    fragment_sha256: str,
    local: Path,
    max_bytes: int,
    warnings: list[str],
    fmt: str,
    what: str,
    stage: str,
) -> object | None:
    """The JSON of a fragment made from an episode fragment (a baseline or faces fragment) when
    it was made from exactly these bytes; None when deleted or stale (with a warning)."""
    try:
        if store.size(key) > max_bytes:
            raise ExportError(f"{key} is over {max_bytes} bytes")
        store.get_file(key, local)
    except NotFoundError:
        return None  # deleted since it was listed: the episode has no baseline
    try:
        value = json.loads(local.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{key} is not valid JSON: {exc}") from None
    finally:
        local.unlink(missing_ok=True)
    head = read_head(value, key, fmt)
    if head.episode_id != fragment.episode_id:
        raise ExportError(f"{key} holds episode_id {head.episode_id}, not its file name")
    if head.episode_sha256 != fragment_sha256:
        warnings.append(
            f"{key} was made from another version of episode {fragment.episode_id} "
            f"(its episode_sha256 is not the fragment's); its {what} are not exported: "
            f"run {stage} for the episode again"
        )
        return None
    checked: object = value
    return checked


def orphan_warnings(keys: Iterable[str], used: set[str], what: str = "baseline clips") -> list[str]:
    """Baseline (faces) fragments of episodes the dataset does not hold: skipped, warned."""
    return [
        f"{key} has no episode fragment under episodes/; its {what} are not exported"
        for key in sorted(set(keys) - used)
    ]


def list_fragments(store: ObjectStore, root: str, folder: str) -> set[str]:
    """The keys of datasets/<name>/<folder>/<id>.json."""
    return {
        k for k in store.list(join_key(root, folder)) if k.endswith(".json") and k.count("/") == 3
    }
