"""Is a local folder an exported dataset, and if not, which folders under it are."""

from __future__ import annotations

from pathlib import Path

MARKERS = ("manifest.jsonl", "anim400k_annotations.json")
MAX_SUGGESTIONS = 3


def is_dataset(path: Path) -> bool:
    return any((path / name).is_file() for name in MARKERS)


def datasets_under(path: Path) -> list[Path]:
    """Exported datasets at path/datasets/NAME (a run's root) or path/NAME (its datasets/)."""
    found = {
        p.parent
        for pattern in ("datasets/*/{}", "*/{}")
        for name in MARKERS
        for p in path.glob(pattern.format(name))
    }
    return sorted(found)


def not_a_dataset(path: Path) -> str | None:
    """None when path holds an exported dataset, else one line saying why not and what to use."""
    if is_dataset(path):
        return None
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_dir():
        return f"{path} is not a dataset folder"
    why = f"{path} is not a dataset (no {' or '.join(MARKERS)})"
    found = datasets_under(path)
    if found:
        return f"{why}; did you mean {' or '.join(str(p) for p in found[:MAX_SUGGESTIONS])}?"
    if (path / "episodes").is_dir():
        return f"{why}; it holds episode fragments: export them first with `dubset export`"
    return why
