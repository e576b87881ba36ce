"""Files in the run directory: pid files, logs, the lock and the env written by `up`."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from localinfra.base import LOG_TAIL_LINES, Env


def pid_path(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def log_path(run_dir: Path, name: str) -> Path:
    return run_dir / "logs" / f"{name}.log"


def write_private(path: Path, text: str) -> None:
    """Write `text` atomically to `path`, readable by the owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[None]:
    """Serialise `up` and `down` on one run directory (e.g. parallel pytest workers)."""
    with (run_dir / "infra.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load_env(run_dir: Path) -> Env | None:
    """The env mapping written by the last successful `up`, or None."""
    try:
        data = json.loads((run_dir / "infra.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return {str(key): str(value) for key, value in data.items()}


def write_env(run_dir: Path, env: Env) -> None:
    lines = "".join(f"{key}={env[key]}\n" for key in sorted(env))
    write_private(run_dir / "infra.env", lines)
    write_private(run_dir / "infra.json", json.dumps(env, indent=2, sort_keys=True) + "\n")
