"""The entry point every service shares: `python -m dubset_<stage> serve|worker`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings, load_settings
from dubset_common.errors import ConfigError
from dubset_common.grpcserver import RunningServer, install_stop_signals, serve_until_signal
from dubset_common.ledger import DeliveryLedger
from dubset_common.logs import configure_logging
from dubset_common.metrics import StageMetrics, serve_metrics
from dubset_common.objstore import ObjectStore
from dubset_common.runner import P, Stage, StageExecutor
from dubset_common.wiring import build_bus, build_health, build_store, secrets_of
from dubset_common.worker import StageWorker

log = logging.getLogger("dubset_common.service")

StartServer = Callable[[Settings, CollectorRegistry], RunningServer]
StartWorker = Callable[[Settings, CollectorRegistry], StageWorker]
# A stage's server.start (addr, store, registry) and worker.build_worker.
StartStoreServer = Callable[[str, ObjectStore, CollectorRegistry], RunningServer]
StartPureServer = Callable[[str, CollectorRegistry], RunningServer]
BuildWorker = Callable[[Settings, ObjectStore, Bus, CollectorRegistry], StageWorker]


def run_service(
    stage: str,
    start_server: StartServer,
    start_worker: StartWorker,
    argv: Sequence[str] | None = None,
    *,
    startup_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Parse the role, load settings, serve metrics, then run the gRPC server or the worker.

    A worker's metrics port also answers /healthz and /readyz from its loop.
    A bad setting, or one of startup_errors (a missing tool or model), exits 2 with one line.
    """
    parser = argparse.ArgumentParser(prog=f"python -m dubset_{stage}")
    parser.add_argument("role", choices=["serve", "worker"], help="gRPC server or Kafka worker")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(stage)
    except ConfigError as exc:
        print(f"dubset-{stage}: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        f"{stage}-{'server' if args.role == 'serve' else 'worker'}",
        settings.log_level,
        secrets_of(settings),
    )
    registry = CollectorRegistry()
    health = build_health(settings) if args.role == "worker" else None
    if settings.metrics_port:
        port = serve_metrics(registry, settings.metrics_port, settings.metrics_addr, health)
        log.info("metrics%s on port %d", " and health" if health else "", port)
    fatal: tuple[type[Exception], ...] = (ConfigError, *startup_errors)
    try:
        if args.role == "serve":
            serve_until_signal(start_server(settings, registry), settings.grpc_grace_s)
            return 0
        worker = start_worker(settings, registry)
    except fatal as exc:
        print(f"dubset-{stage}: {exc}", file=sys.stderr)
        return 2
    worker.health = health
    install_stop_signals(worker.stop.set)
    worker.run()
    log.info("worker stopped")
    return 0


def run_stage_service(
    stage: str,
    start: StartStoreServer,
    build_worker: BuildWorker,
    argv: Sequence[str] | None = None,
    *,
    startup_errors: tuple[type[Exception], ...] = (),
) -> int:
    """run_service for a stage whose server needs the object store and whose worker the store
    and the bus, both built from the settings."""
    return run_service(
        stage,
        lambda s, r: start(s.grpc_addr, build_store(s), r),
        lambda s, r: build_worker(s, build_store(s), build_bus(s), r),
        argv,
        startup_errors=startup_errors,
    )


def run_pure_stage_service(
    stage: str, start: StartPureServer, build_worker: BuildWorker, argv: Sequence[str] | None = None
) -> int:
    """run_service for a stage whose server answers from the request alone (no object store),
    and whose worker needs the store and the bus."""
    return run_service(
        stage,
        lambda s, r: start(s.grpc_addr, r),
        lambda s, r: build_worker(s, build_store(s), build_bus(s), r),
        argv,
    )


def stage_worker(
    stage: Stage[P],
    settings: Settings,
    store: ObjectStore,
    bus: Bus,
    registry: CollectorRegistry,
    *,
    max_input_bytes: int,
) -> StageWorker:
    """A Kafka worker running one stage through the idempotent executor."""
    executor = StageExecutor(
        stage,
        store,
        StageMetrics.create(registry, stage.name),
        max_input_bytes=max_input_bytes,
        pause_before_manifest_s=settings.debug_pause_before_manifest_s,
    )
    return StageWorker(
        executor,
        bus,
        max_attempts=settings.max_attempts,
        backoff_s=settings.retry_backoff_s,
        topic_prefix=settings.topic_prefix,
        progress=True,
        transient_retry_s=settings.transient_retry_s,
        ledger=DeliveryLedger(store, stage.name) if settings.max_crashes else None,
        max_crashes=settings.max_crashes,
    )
