"""Bringing the servers up in order, down, their status, and outages for fault tests."""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from localinfra.base import (
    DEFAULT_RUN_DIR,
    LOG_TAIL_LINES,
    READY_TIMEOUT_S,
    Component,
    Env,
    InfraError,
    Say,
)
from localinfra.broker import S3_STORAGE, kafka_healthy, kafka_storage, start_kafka
from localinfra.files import load_env, locked, log_path, tail, write_env
from localinfra.processes import proc_env, running_pid, spawn, started_argv, stop
from localinfra.prometheus import prometheus_healthy, start_prometheus
from localinfra.s3 import s3_healthy, start_s3

# Data kept by `down` and removed by `down --purge`.
PURGE_PATHS = ("seaweed", "prometheus-data", "prom_targets", "logs", "s3.json", "prometheus.yml")

S3 = Component("s3", "weed", start_s3, s3_healthy)
KAFKA = Component("kafka", "tansu", start_kafka, kafka_healthy)
PROMETHEUS = Component("prometheus", "prometheus", start_prometheus, prometheus_healthy)
COMPONENTS = (S3, KAFKA, PROMETHEUS)
ENV_KEYS = {
    "s3": (
        "DUBSET_S3_ENDPOINT",
        "DUBSET_S3_ACCESS_KEY",
        "DUBSET_S3_SECRET_KEY",
        "DUBSET_S3_REGION",
        "DUBSET_S3_BUCKET",
    ),
    "kafka": ("DUBSET_KAFKA_BOOTSTRAP", "DUBSET_KAFKA_STORAGE"),
    "prometheus": ("DUBSET_PROMETHEUS_URL", "DUBSET_PROM_TARGETS_DIR"),
}


def stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def component_env(component: Component, env: Env) -> Env | None:
    """The component's part of `env`, or None if any key is missing."""
    keys = ENV_KEYS[component.name]
    return {key: env[key] for key in keys} if all(key in env for key in keys) else None


def is_healthy(run_dir: Path, component: Component, env: Env) -> bool:
    own = component_env(component, env)
    return (
        own is not None and running_pid(run_dir, component) is not None and component.healthy(own)
    )


def wait_ready(run_dir: Path, component: Component, env: Env) -> None:
    """Poll the health check for up to 60 s; on failure raise with the log's last lines."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    problem = "exited before it was ready"
    while running_pid(run_dir, component) is not None:
        if component.healthy(env):
            return
        if time.monotonic() > deadline:
            problem = f"was not ready within {READY_TIMEOUT_S:.0f}s"
            break
        time.sleep(0.25)
    log = log_path(run_dir, component.name)
    raise InfraError(
        f"{component.name} {problem}; last {LOG_TAIL_LINES} lines of {log}:\n{tail(log)}"
    )


def start(run_dir: Path, component: Component, env: Env, say: Say) -> Env:
    stop(run_dir, component)  # clears a stale pid file, or an unhealthy process
    say(f"starting {component.name} ...")
    began = time.monotonic()
    own = component.start(run_dir, env)
    wait_ready(run_dir, component, env | own)
    say(f"{component.name} ready in {time.monotonic() - began:.1f}s")
    return own


def bring_up(run_dir: Path, previous: Env, durable: bool, say: Say) -> Env:
    """Start what is not healthy, in order; on failure stop what this call started."""
    env: Env = {}
    started: list[Component] = []
    try:
        for component in COMPONENTS:
            current = component_env(component, previous)
            if component is KAFKA:
                current = restart_kafka_if_needed(current, previous, durable, started)
            if current is not None and is_healthy(run_dir, component, env | current):
                env |= current
                continue
            if component is KAFKA:
                env["DUBSET_KAFKA_STORAGE"] = kafka_storage(previous, durable)
            started.append(component)
            env |= start(run_dir, component, env, say)
    except BaseException:
        for component in reversed(started):
            stop(run_dir, component)
        raise
    return env


def restart_kafka_if_needed(
    current: Env | None, previous: Env, durable: bool, started: list[Component]
) -> Env | None:
    """Force a Kafka restart when its storage must change or its S3 storage was restarted."""
    if current is None:
        return None
    wanted = kafka_storage(previous, durable)
    if current["DUBSET_KAFKA_STORAGE"] != wanted or (wanted == S3_STORAGE and S3 in started):
        return None
    return current


def up(run_dir: Path = DEFAULT_RUN_DIR, durable: bool = False, say: Say = stderr) -> Env:
    """Bring everything up (idempotent), write infra.env and infra.json; return the env mapping."""
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    with locked(run_dir):
        env = bring_up(run_dir, load_env(run_dir) or {}, durable, say)
        write_env(run_dir, env)
    return env


def ensure_up(run_dir: Path = DEFAULT_RUN_DIR, durable: bool = False) -> Env:
    """For test fixtures: bring infra up unless already healthy; returns the env mapping."""
    return up(run_dir, durable, say=stderr)


def down(run_dir: Path = DEFAULT_RUN_DIR, purge: bool = False, say: Say = stderr) -> None:
    """Stop what `up` started (by pid file), remove infra.env/json; `purge` deletes data too."""
    run_dir = run_dir.resolve()
    if not run_dir.is_dir():
        return
    with locked(run_dir):
        for component in reversed(COMPONENTS):
            if stop(run_dir, component):
                say(f"stopped {component.name}")
        for name in ("infra.env", "infra.json"):
            (run_dir / name).unlink(missing_ok=True)
        if purge:
            for name in PURGE_PATHS:
                remove(run_dir / name)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def status(run_dir: Path = DEFAULT_RUN_DIR) -> dict[str, bool]:
    env = load_env(run_dir.resolve()) or {}
    return {
        component.name: is_healthy(run_dir.resolve(), component, env) for component in COMPONENTS
    }


@contextlib.contextmanager
def outage(run_dir: Path, name: str) -> Iterator[None]:
    """Stop a server for the block, then start it again with the same command line: the same
    ports and data, so every client's address stays valid and it resumes where it stopped."""
    component = {c.name: c for c in COMPONENTS}[name]
    run_dir = run_dir.resolve()
    pid = running_pid(run_dir, component)
    if pid is None:
        raise InfraError(f"{name} is not running in {run_dir}")
    argv = started_argv(pid)
    extra = proc_env(pid, ("AWS_",))
    env = load_env(run_dir) or {}
    stop(run_dir, component)
    try:
        yield
    finally:
        spawn(run_dir, name, argv, extra, append=True)
        wait_ready(run_dir, component, env)
