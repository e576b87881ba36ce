"""Run every dubset service as local processes beside `make up`'s servers (`make services`).

Each gRPC server runs once; each Kafka worker runs `worker_replicas` times (`--worker-replicas`):
replica 1 is `<stage>-worker`, replica k > 1 `<stage>-worker-k`. The replicas of a worker share
its consumer group (named after the stage), so the broker splits the topic's partitions between
them: give the services DUBSET_KAFKA_PARTITIONS >= the replicas, or the extra ones stay idle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))

import infra

# (service, role, gRPC service name or "" for a worker)
SERVICES = (
    ("alignment", "serve", "dubset.v1.AlignmentService"),
    ("alignment", "worker", ""),
    ("media", "serve", "dubset.v1.MediaService"),
    ("media", "worker", ""),
    ("separation", "serve", "dubset.v1.SeparationService"),
    ("separation", "worker", ""),
    ("asr", "serve", "dubset.v1.AsrService"),
    ("asr", "worker", ""),
    ("diarization", "serve", "dubset.v1.DiarizationService"),
    ("diarization", "worker", ""),
    ("packaging", "serve", "dubset.v1.PackagingService"),
    ("packaging", "worker", ""),
    ("tts", "serve", "dubset.v1.TtsService"),
    ("tts", "worker", ""),
    ("translation", "serve", "dubset.v1.TranslationService"),
    ("translation", "worker", ""),
    # The whole dubbed episode (ffmpeg, CPU); its server runs Render on the store, as packaging's.
    ("render", "serve", "dubset.v1.RenderService"),
    ("render", "worker", ""),
    # AniVid face clips and who speaks on screen (OpenCV, animeface in worker processes).
    ("faces", "serve", "dubset.v1.FacesService"),
    ("faces", "worker", ""),
    # Per clip pair quality signals and a score (DNSMOS, re-ASR; CPU by default).
    ("quality", "serve", "dubset.v1.QualityService"),
    ("quality", "worker", ""),
    # Last: the orchestrator publishes to every stage's topics, so its workers come first.
    ("jobs", "serve", "dubset.v1.JobService"),
)
# Settings a service reads from the caller's environment (the processes get a minimal one): the
# translation stage's openai backend, its allowed endpoints (unset: any, as in `dubset run`) and
# its API key, given to the translation processes only.
PASS_THROUGH = {
    "translation": (
        "DUBSET_TRANSLATION_ENDPOINTS",
        "DUBSET_TRANSLATION_API_KEY_FILE",
        "DUBSET_TRANSLATION_API_KEY",
    ),
}
# How long a process may take to answer its health check: imports and the first connection to
# the broker take seconds, but on a loaded machine (CI, a restart storm) far longer.
READY_TIMEOUT_S = 120.0
DEFAULT_PARTITIONS = 6  # what the services create topics with when DUBSET_KAFKA_PARTITIONS is unset
_WORKERS = frozenset(service for service, role, _ in SERVICES if role == "worker")
_REPLICA = re.compile(r"^(?P<service>[a-z]+)-worker-(?P<k>[0-9]+)$")


def _name(service: str, role: str, replica: int = 1) -> str:
    """The process name: `<service>-server`, `<service>-worker`, `<service>-worker-<k>` (k > 1)."""
    base = f"{service}-{'server' if role == 'serve' else 'worker'}"
    if role == "serve" or replica == 1:
        return base
    return f"{base}-{replica}"


def plan(worker_replicas: int = 1) -> list[tuple[str, str, str, str]]:
    """(process name, service, role, gRPC service name) of every process `up` starts, in order."""
    if worker_replicas < 1:
        raise ValueError(f"worker_replicas must be at least 1, not {worker_replicas}")
    out = []
    for service, role, grpc_name in SERVICES:
        copies = worker_replicas if role == "worker" else 1
        for k in range(1, copies + 1):
            out.append((_name(service, role, k), service, role, grpc_name))
    return out


def known_names(run_dir: Path) -> list[str]:
    """Every process name this run directory may hold: the one-replica plan, plus the extra
    worker replicas that services.json or a pid file names, in `plan` order."""
    extra: set[str] = set()
    state = run_dir / "services.json"
    if state.exists():
        with contextlib.suppress(OSError, ValueError, TypeError):
            extra.update(json.loads(state.read_text()))
    extra.update(p.stem for p in run_dir.glob("*-worker-*.pid"))
    replicas: dict[str, list[int]] = {}
    for name in extra:
        match = _REPLICA.match(name)
        if match and match["service"] in _WORKERS and int(match["k"]) > 1:
            replicas.setdefault(match["service"], []).append(int(match["k"]))
    names = []
    for name, service, role, _ in plan(1):
        names.append(name)
        if role == "worker":
            names += [_name(service, role, k) for k in sorted(replicas.get(service, []))]
    return names


def service_env(service: str, environ: dict[str, str]) -> dict[str, str]:
    """What of environ the service's processes get besides the infrastructure's settings."""
    return {k: environ[k] for k in PASS_THROUGH.get(service, ()) if k in environ}


def _check_partitions(env: dict[str, str], worker_replicas: int) -> None:
    raw = env.get("DUBSET_KAFKA_PARTITIONS", "")
    partitions = int(raw) if raw.strip().isdigit() else DEFAULT_PARTITIONS
    if worker_replicas > partitions:
        print(
            f"services: {worker_replicas} replicas per worker but topics of {partitions} "
            f"partitions: {worker_replicas - partitions} replica(s) of each worker stay idle "
            "(set DUBSET_KAFKA_PARTITIONS)",
            file=sys.stderr,
        )


def _component(name: str) -> infra.Component:
    return infra.Component(name, Path(sys.executable).name, lambda _d, _e: {}, lambda _e: True)


def _grpc_ready(addr: str, service: str) -> bool:
    with grpc.insecure_channel(addr) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _metrics_ready(addr: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{addr}/metrics", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def up(
    run_dir: Path,
    infra_env: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    worker_replicas: int = 1,
    environ: dict[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Start every service process that is not running, each Kafka worker `worker_replicas`
    times (replicas beyond that which are already running are left alone); infra_env defaults
    to run_dir's `make up`, and extra_env (e.g. a DUBSET_TOPIC_PREFIX for tests, or
    DUBSET_KAFKA_PARTITIONS >= worker_replicas) is added to each one's environment, and to a
    service's own the PASS_THROUGH settings found in environ (default: none)."""
    processes = plan(worker_replicas)
    env = infra_env if infra_env is not None else infra.load_env(run_dir)
    if env is None:
        raise SystemExit("services: the local infrastructure is not up: run `make up` first")
    env = {**env, **(extra_env or {})}
    _check_partitions(env, worker_replicas)
    state: dict[str, dict[str, str]] = {}
    for name, service, role, grpc_name in processes:
        if infra.running_pid(run_dir, _component(name)) is not None:
            print(f"{name} already running", file=sys.stderr)
            continue
        grpc_port, metrics_port = infra.free_ports(2)
        extra = {
            **env,
            **service_env(service, environ or {}),
            "DUBSET_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
            "DUBSET_METRICS_PORT": str(metrics_port),
            "DUBSET_METRICS_ADDR": "127.0.0.1",
        }
        infra.spawn(run_dir, name, [sys.executable, "-m", f"dubset_{service}", role], extra)
        state[name] = {
            "grpc": extra["DUBSET_GRPC_ADDR"] if grpc_name else "",
            "metrics": f"127.0.0.1:{metrics_port}",
        }
        _wait(run_dir, name, grpc_name, state[name])
        infra.register_scrape_target(name, state[name]["metrics"], run_dir)
        print(
            f"{name} ready (grpc {state[name]['grpc'] or '-'}, metrics {state[name]['metrics']})",
            file=sys.stderr,
        )
    path = run_dir / "services.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(old | state, indent=2) + "\n")
    return state


def missing(run_dir: Path, worker_replicas: int = 1) -> list[str]:
    """The processes of the plan that are not running (died, killed, or never started)."""
    return [
        name
        for name, *_ in plan(worker_replicas)
        if infra.running_pid(run_dir, _component(name)) is None
    ]


def _wait(run_dir: Path, name: str, grpc_name: str, addrs: dict[str, str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if infra.running_pid(run_dir, _component(name)) is None:
            break
        ok = (
            _grpc_ready(addrs["grpc"], grpc_name) if grpc_name else _metrics_ready(addrs["metrics"])
        )
        if ok and _metrics_ready(addrs["metrics"]):
            return
        time.sleep(0.2)
    # Not left half-started: the next `up` starts it again, on ports it then records.
    infra.stop(run_dir, _component(name))
    log = infra.log_path(run_dir, name)
    raise SystemExit(
        f"services: {name} did not become ready; last lines of {log}:\n{infra.tail(log)}"
    )


def down(run_dir: Path) -> None:
    """Stop every service process of run_dir, worker replicas included."""
    for name in known_names(run_dir):
        if infra.stop(run_dir, _component(name)):
            print(f"{name} stopped", file=sys.stderr)
        infra.unregister_scrape_target(name, run_dir)
    (run_dir / "services.json").unlink(missing_ok=True)


def status(run_dir: Path) -> int:
    bad = 0
    for name in known_names(run_dir):
        alive = infra.running_pid(run_dir, _component(name)) is not None
        bad += not alive
        print(f"{name:<20} {'UP' if alive else 'DOWN'}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=infra.DEFAULT_RUN_DIR)
    parser.add_argument(
        "--worker-replicas",
        type=int,
        default=1,
        metavar="N",
        help="up: processes per Kafka worker (default 1); needs DUBSET_KAFKA_PARTITIONS >= N",
    )
    args = parser.parse_args(argv)
    if args.worker_replicas < 1:
        parser.error("--worker-replicas must be at least 1")
    run_dir = args.dir.resolve()
    if args.command == "up":
        extra = {k: v for k, v in os.environ.items() if k == "DUBSET_KAFKA_PARTITIONS"}
        up(run_dir, extra_env=extra, worker_replicas=args.worker_replicas, environ=dict(os.environ))
    elif args.command == "down":
        down(run_dir)
    else:
        return status(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
