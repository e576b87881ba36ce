"""Prometheus metrics of one stage from a registry passed in; the port serving them and health."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from dubset_common.health import LoopHealth

_STAGE = re.compile(r"^[a-z][a-z0-9_]*$")
LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    120,
    300,
    600,
    1800,
)


def check_stage(stage: str) -> str:
    """Return stage if it is a metric-safe noun, else raise ValueError."""
    if not _STAGE.fullmatch(stage):
        raise ValueError(f"stage name {stage!r} is not a metric-safe noun")
    return stage


@dataclass(frozen=True)
class StageMetrics:
    """dubset_<stage>_* series: requests by outcome and backend, latency, retries, DLQ, bytes."""

    requests: Counter
    processing_seconds: Histogram
    handoff_seconds: Histogram
    retries: Counter
    dead_letters: Counter
    inflight: Gauge
    input_bytes: Counter
    output_bytes: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry, stage: str) -> StageMetrics:
        p = f"dubset_{check_stage(stage)}"
        return cls(
            requests=Counter(
                f"{p}_requests",
                f"{stage} requests handled, by outcome (ok, reused, failed) and backend",
                ["outcome", "backend"],
                registry=registry,
            ),
            processing_seconds=Histogram(
                f"{p}_processing_seconds",
                f"{stage} wall time per request that did work",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            handoff_seconds=Histogram(
                f"{p}_handoff_seconds",
                f"time from a {stage} request's submission to its pickup",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            retries=Counter(f"{p}_retries", f"{stage} attempts retried", registry=registry),
            dead_letters=Counter(
                f"{p}_dead_letters", f"{stage} messages sent to the DLQ", registry=registry
            ),
            inflight=Gauge(f"{p}_inflight", f"{stage} requests being worked on", registry=registry),
            input_bytes=Counter(f"{p}_input_bytes", f"{stage} input bytes read", registry=registry),
            output_bytes=Counter(
                f"{p}_output_bytes", f"{stage} output bytes written", registry=registry
            ),
        )


# The health paths next to /metrics: liveness (restart the pod) and readiness.
HEALTH_PATHS = ("/healthz", "/readyz")


def metrics_app(registry: CollectorRegistry, health: LoopHealth | None = None) -> WSGIApplication:
    """/metrics (any other path too, as prometheus_client serves it) from the registry, and
    /healthz and /readyz answering health's liveness and readiness as JSON (200 or 503); the
    health paths are 404 in a process without a consumer loop (health None)."""
    metrics = cast(WSGIApplication, make_wsgi_app(registry))

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in HEALTH_PATHS:
            return metrics(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"ok": False}, method)
        if health is None:
            body = {"ok": False, "reason": "no consumer loop in this process"}
            return _json(start_response, "404 Not Found", body, method)
        verdict = health.liveness() if path == "/healthz" else health.readiness()
        status = "200 OK" if verdict.ok else "503 Service Unavailable"
        return _json(start_response, status, verdict.body(), method)

    return app


def _json(
    start_response: StartResponse, status: str, body: dict[str, object], method: str
) -> list[bytes]:
    data = json.dumps(body).encode() + b"\n"
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            ("Content-Length", str(len(data))),
        ],
    )
    return [b"" if method == "HEAD" else data]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Nothing: a probe every few seconds would drown the service's own log lines."""


def serve_metrics(
    registry: CollectorRegistry,
    port: int,
    addr: str = "0.0.0.0",
    health: LoopHealth | None = None,
) -> int:
    """Serve metrics_app on addr:port (0 picks a free one) from a daemon thread; returns the
    bound port."""
    family, _, _, _, sockaddr = socket.getaddrinfo(
        addr, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]

    class Server(_ThreadingServer):
        address_family = family  # an IPv6 addr needs AF_INET6

    server = make_server(
        str(sockaddr[0]),
        port,
        metrics_app(registry, health),
        Server,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return int(server.server_port)
