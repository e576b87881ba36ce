"""Run the jobs service: `python -m dubset_jobs serve` (orchestrator + JobService gRPC)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from prometheus_client import CollectorRegistry

from dubset_common.config import load_settings
from dubset_common.errors import ConfigError, TransientError
from dubset_common.grpcserver import install_stop_signals
from dubset_common.logs import configure_logging
from dubset_common.metrics import serve_metrics
from dubset_common.wiring import build_bus, build_health, build_store, secrets_of
from dubset_jobs import STAGE
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from dubset_jobs.server import start

log = logging.getLogger("dubset_jobs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dubset_jobs")
    parser.add_argument("role", choices=["serve"], help="orchestrator + JobService gRPC server")
    parser.parse_args(argv)
    try:
        settings = load_settings(STAGE)
    except ConfigError as exc:
        print(f"dubset-jobs: {exc}", file=sys.stderr)
        return 2
    configure_logging("jobs", settings.log_level, secrets_of(settings))
    registry = CollectorRegistry()
    health = build_health(settings)  # of the ingest consumer: /healthz and /readyz
    if settings.metrics_port:
        log.info(
            "metrics and health on port %d",
            serve_metrics(registry, settings.metrics_port, settings.metrics_addr, health),
        )
    orchestrator = Orchestrator(
        build_bus(settings),
        build_store(settings),
        JobsOptions.from_settings(settings),
        registry,
        settings.topic_prefix,
        health=health,
    )
    try:
        orchestrator.start()
        running = start(settings.grpc_addr, orchestrator, registry, settings.jobs_max_watches)
    except (ConfigError, TransientError, OSError) as exc:
        print(f"dubset-jobs: {exc}", file=sys.stderr)
        orchestrator.stop()
        return 2
    done = threading.Event()

    def stop() -> None:
        running.drain(settings.grpc_grace_s)  # no new calls; watches end as the server stops
        orchestrator.stop()
        done.set()

    install_stop_signals(stop)
    done.wait()
    log.info("jobs service stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
