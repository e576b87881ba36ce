"""Local servers for `make up` and tests: SeaweedFS S3, Tansu Kafka, Prometheus on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from localinfra.base import DEFAULT_RUN_DIR, HOST, Component, Env, InfraError
from localinfra.files import load_env, log_path, pid_path, tail
from localinfra.lifecycle import COMPONENTS, down, ensure_up, outage, status, stderr, up
from localinfra.processes import child_env, free_ports, read_pid, running_pid, spawn, stop
from localinfra.prometheus import register_scrape_target, unregister_scrape_target

# What tests, tools/services.py and bench/ use as `infra.<name>`.
__all__ = [
    "COMPONENTS",
    "DEFAULT_RUN_DIR",
    "HOST",
    "Component",
    "Env",
    "InfraError",
    "child_env",
    "down",
    "ensure_up",
    "free_ports",
    "load_env",
    "log_path",
    "main",
    "outage",
    "pid_path",
    "read_pid",
    "register_scrape_target",
    "running_pid",
    "spawn",
    "status",
    "stop",
    "tail",
    "unregister_scrape_target",
    "up",
]


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
