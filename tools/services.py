"""Run every dubset service as local processes beside `make up`'s servers (`make services`)."""

from __future__ import annotations

import argparse
import json
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
    # Last: the orchestrator publishes to every stage's topics, so its workers come first.
    ("jobs", "serve", "dubset.v1.JobService"),
)
READY_TIMEOUT_S = 30.0


def _name(service: str, role: str) -> str:
    return f"{service}-{'server' if role == 'serve' else 'worker'}"


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
) -> dict[str, dict[str, str]]:
    """Start every service that is not running; infra_env defaults to run_dir's `make up`, and
    extra_env (e.g. a DUBSET_TOPIC_PREFIX for tests) is added to each one's environment."""
    env = infra_env if infra_env is not None else infra.load_env(run_dir)
    if env is None:
        raise SystemExit("services: the local infrastructure is not up: run `make up` first")
    env = {**env, **(extra_env or {})}
    state: dict[str, dict[str, str]] = {}
    for service, role, grpc_name in SERVICES:
        name = _name(service, role)
        if infra.running_pid(run_dir, _component(name)) is not None:
            print(f"{name} already running", file=sys.stderr)
            continue
        grpc_port, metrics_port = infra.free_ports(2)
        extra = {
            **env,
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
    log = infra.log_path(run_dir, name)
    raise SystemExit(
        f"services: {name} did not become ready; last lines of {log}:\n{infra.tail(log)}"
    )


def down(run_dir: Path) -> None:
    for service, role, _ in SERVICES:
        name = _name(service, role)
        if infra.stop(run_dir, _component(name)):
            print(f"{name} stopped", file=sys.stderr)
        infra.unregister_scrape_target(name, run_dir)
    (run_dir / "services.json").unlink(missing_ok=True)


def status(run_dir: Path) -> int:
    bad = 0
    for service, role, _ in SERVICES:
        name = _name(service, role)
        alive = infra.running_pid(run_dir, _component(name)) is not None
        bad += not alive
        print(f"{name:<20} {'UP' if alive else 'DOWN'}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=infra.DEFAULT_RUN_DIR)
    args = parser.parse_args(argv)
    run_dir = args.dir.resolve()
    if args.command == "up":
        up(run_dir)
    elif args.command == "down":
        down(run_dir)
    else:
        return status(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
