"""Server processes: executables, free ports, spawning with pid files, and stopping groups."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from localinfra.base import HOST, STOP_TIMEOUT_S, Component, Env, InfraError
from localinfra.files import log_path, pid_path

# Popen objects of the servers this interpreter started, kept so they can be reaped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}

NUMERIC_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "KMP_")


def find_executable(env_var: str, candidates: list[Path], name: str) -> str:
    """`$env_var` if set, else the first existing candidate, else `name` on PATH."""
    override = os.environ.get(env_var)
    if override:
        return override
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise InfraError(f"{name} not found (set {env_var})")
    return found


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that are free on 127.0.0.1 right now."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def child_env(extra: Env) -> Env:
    """A minimal environment, so stray AWS_*/OTEL_*/S3_* variables cannot redirect a server.

    The numeric-library settings pass through: OPENBLAS_CORETYPE picks the BLAS kernels, and a
    service on other kernels than the CLI computes other floats (Whisper then decodes other
    words), so `make up` and `dubset run` would not give byte-identical datasets."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TZ") if key in os.environ}
    numeric = {k: v for k, v in os.environ.items() if k.startswith(NUMERIC_ENV_PREFIXES)}
    return base | numeric | extra


def spawn(
    run_dir: Path, name: str, argv: list[str], extra_env: Env | None = None, append: bool = False
) -> int:
    """Start `argv` in a new session, logging to logs/<name>.log; record and return its pid."""
    log = log_path(run_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab" if append else "wb") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=run_dir,
            env=child_env(extra_env or {}),
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    pid_path(run_dir, name).write_text(f"{proc.pid}\n")
    return proc.pid


def read_pid(run_dir: Path, name: str) -> int | None:
    try:
        return int(pid_path(run_dir, name).read_text().strip())
    except (OSError, ValueError):
        return None


def proc_argv(pid: int) -> list[str]:
    """The command line of a live process; empty for zombies and missing pids."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def started_argv(pid: int) -> list[str]:
    """The command line a server was started with: its Popen's for a child of this interpreter."""
    proc = _CHILDREN.get(pid)
    return [str(a) for a in proc.args] if proc is not None else proc_argv(pid)  # type: ignore[union-attr]


def proc_env(pid: int, prefixes: tuple[str, ...]) -> Env:
    """The variables of a live process whose names start with one of prefixes."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {k: v for k, _, v in pairs if k.startswith(prefixes)}


def running_pid(run_dir: Path, component: Component) -> int | None:
    """The recorded pid if that process is alive and still runs the component's executable.

    A child of this interpreter is judged by its Popen object: right after exec its
    /proc/<pid>/cmdline can still read empty for a moment.
    """
    pid = read_pid(run_dir, component.name)
    if pid is None:
        return None
    if pid in _CHILDREN:
        return pid if _CHILDREN[pid].poll() is None else None
    argv = proc_argv(pid)
    return pid if argv and Path(argv[0]).name == component.executable else None


def group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is left in process group `pgid`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def reap(pid: int) -> None:
    proc = _CHILDREN.pop(pid, None)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)


def stop(run_dir: Path, component: Component) -> bool:
    """Stop the component's process group (TERM, then KILL after 10 s); True if one was running."""
    pid = running_pid(run_dir, component)
    if pid is not None:
        signal_group(pid, signal.SIGTERM)
        if not wait_group_gone(pid, STOP_TIMEOUT_S):
            signal_group(pid, signal.SIGKILL)
            wait_group_gone(pid, STOP_TIMEOUT_S)
        reap(pid)
    pid_path(run_dir, component.name).unlink(missing_ok=True)
    return pid is not None
