"""Run the asr service: `python -m dubset_asr serve|worker`."""

from __future__ import annotations

import argparse
import logging
import sys

from prometheus_client import CollectorRegistry

from dubset_asr import STAGE
from dubset_asr.server import start
from dubset_asr.worker import build_worker
from dubset_common.config import load_settings
from dubset_common.errors import ConfigError
from dubset_common.grpcserver import install_stop_signals, serve_until_signal
from dubset_common.logs import configure_logging
from dubset_common.metrics import serve_metrics
from dubset_common.wiring import build_bus, build_store, secrets_of

log = logging.getLogger("dubset_asr")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dubset_asr")
    parser.add_argument("role", choices=["serve", "worker"], help="gRPC server or Kafka worker")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(STAGE)
    except ConfigError as exc:
        print(f"dubset-asr: {exc}", file=sys.stderr)
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
    if args.role == "serve":
        store = build_store(settings)
        serve_until_signal(start(settings.grpc_addr, store, registry), settings.grpc_grace_s)
        return 0
    worker = build_worker(settings, build_store(settings), build_bus(settings), registry)
    install_stop_signals(worker.stop.set)
    worker.run()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
