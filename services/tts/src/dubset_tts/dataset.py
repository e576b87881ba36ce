"""Writing under datasets/<dataset>/ of the store: keys, write-if-changed, the stored check.

The same helpers as packaging's (services do not import each other); they belong in
dubset_common once a third stage needs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from dubset_common.keys import check_id, join_key
from dubset_common.objstore import ObjectStore, check_sizes
from dubset_tts.fragment import ClipFile, clip_path

DEFAULT_DATASET = "default"


def dataset_prefix(dataset: str) -> str:
    return join_key("datasets", check_id(dataset, "dataset name"))


def baseline_key(dataset: str, episode_id: str) -> str:
    """datasets/<dataset>/baseline/<episode_id>.json: the baseline fragment, written last."""
    return join_key(dataset_prefix(dataset), "baseline", f"{check_id(episode_id)}.json")


def clip_key(dataset: str, clip_id: str) -> str:
    return join_key(dataset_prefix(dataset), clip_path(clip_id))


def check_stored(store: ObjectStore, dataset: str, files: Sequence[ClipFile]) -> None:
    """Every mp3 the baseline fragment will list is stored with the size it was written with."""
    expected = ((clip_key(dataset, f.clip_id), f.bytes) for f in files)
    check_sizes(store, expected, "baseline fragment")
