"""Export's view of datasets/<name>/baseline/: the current baseline fragment of an episode."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from dubset_common.errors import NotFoundError
from dubset_common.keys import join_key
from dubset_common.objstore import ObjectStore
from dubset_packaging.core.baseline import Baseline, parse_baseline, read_head
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
    head = read_head(value, key)
    if head.episode_id != fragment.episode_id:
        raise ExportError(f"{key} holds episode_id {head.episode_id}, not its file name")
    if head.episode_sha256 != fragment_sha256:
        warnings.append(
            f"{key} was made from another version of episode {fragment.episode_id} "
            "(its episode_sha256 is not the fragment's); its baseline clips are not exported: "
            "run the tts stage for the episode again"
        )
        return None
    return parse_baseline(value, key, fragment)


def orphan_warnings(keys: Iterable[str], used: set[str]) -> list[str]:
    """Baseline fragments of episodes the dataset does not hold: skipped, with a warning."""
    return [
        f"{key} has no episode fragment under episodes/; its baseline clips are not exported"
        for key in sorted(set(keys) - used)
    ]
