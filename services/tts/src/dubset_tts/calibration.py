"""The stock voices' calibration kept on disk, so that a restarted tts worker (a pod restart, a
crash) does not speak and embed every voice again: 10 to 45 s on two cores before its first
request.

A cache, nothing more: an entry is named by a hash of everything it depends on (the voice, the
engine and embedder classes and versions, the calibration text, and the source of the code that
makes it), written atomically, and read back exactly (float32 arrays), so a hit gives the same
bytes as computing it. A missing, unreadable or foreign entry is computed again; a cache folder
that cannot be written is skipped. DUBSET_TTS_CACHE_DIR sets the folder ("off": no cache).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt

log = logging.getLogger("dubset_tts.calibration")
CACHE_ENV = "DUBSET_TTS_CACHE_DIR"
FORMAT = "dubset-tts-calibration/1"


@dataclass(frozen=True)
class Entry:
    samples: npt.NDArray[np.float32]
    rate: int
    embedding: npt.NDArray[np.float32]
    f0: float | None


def cache_dir() -> Path | None:
    value = os.environ.get(CACHE_ENV, "")
    if value == "off":
        return None
    if value:
        return Path(value)
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "dubset" / "tts-calibration"


def source_digest(modules: Sequence[ModuleType]) -> str:
    """A hash of the modules' source: a change to the code that makes an entry retires it."""
    h = hashlib.sha256()
    for module in modules:
        h.update(inspect.getsource(module).encode())
    return h.hexdigest()


def entry_path(folder: Path, parts: Sequence[str]) -> Path:
    digest = hashlib.sha256("\n".join((FORMAT, *parts)).encode()).hexdigest()
    return folder / f"{digest[:40]}.npz"


def load(path: Path) -> Entry | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            f0 = float(z["f0"])
            return Entry(
                np.asarray(z["samples"], np.float32),
                int(z["rate"]),
                np.asarray(z["embedding"], np.float32),
                None if np.isnan(f0) else f0,
            )
    except (OSError, ValueError, KeyError, EOFError):
        return None


def save(path: Path, entry: Entry) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                samples=entry.samples,
                rate=np.int64(entry.rate),
                embedding=entry.embedding,
                f0=np.float64(np.nan if entry.f0 is None else entry.f0),
            )
        os.replace(tmp, path)
    except OSError as exc:
        log.info("calibration cache %s not written: %s", path.parent, exc)
