"""Run the diarization service: `python -m dubset_diarization serve|worker`."""

from __future__ import annotations

import argparse
import logging
import sys

from prometheus_client import CollectorRegistry

from dubset_common.config import load_settings
from dubset_common.errors import ConfigError
from dubset_common.grpcserver import install_stop_signals, serve_until_signal
from dubset_common.logs import configure_logging
from dubset_common.metrics import serve_metrics
from dubset_common.wiring import build_bus, build_store, secrets_of
from dubset_diarization import STAGE
from dubset_diarization.config import load_config
from dubset_diarization.handler import Backends
from dubset_diarization.server import start
from dubset_diarization.worker import build_worker

log = logging.getLogger("dubset_diarization")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dubset_diarization")
    parser.add_argument("role", choices=["serve", "worker"], help="gRPC server or Kafka worker")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(STAGE)
        backends = Backends(load_config())
    except ConfigError as exc:
        print(f"dubset-diarization: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        f"{STAGE}-{'server' if args.role == 'serve' else 'worker'}",
        settings.log_level,
        secrets_of(settings),
    )
    registry = CollectorRegistry()
    if settings.metrics_port:
        port = serve_metrics(registry, settings.metrics_port, settings.metrics_addr)
        log.info("metrics on port %d", port)
    store = build_store(settings)
    if args.role == "serve":
        serve_until_signal(
            start(settings.grpc_addr, store, backends, registry), settings.grpc_grace_s
        )
        return 0
    worker = build_worker(settings, store, build_bus(settings), registry, backends)
    install_stop_signals(worker.stop.set)
    worker.run()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
