"""Prometheus metrics of one stage, built from a registry passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

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


def serve_metrics(registry: CollectorRegistry, port: int, addr: str = "0.0.0.0") -> int:
    """Expose /metrics on port (0 picks a free one); returns the bound port."""
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return int(server.server_port)
