"""Prometheus metrics of a gRPC server's unary calls: count by method and status, latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from dubset_common.metrics import LATENCY_BUCKETS, check_stage


class MetricsInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """dubset_<stage>_grpc_requests_total{method, code} and dubset_<stage>_grpc_request_seconds."""

    def __init__(self, registry: CollectorRegistry, stage: str) -> None:
        p = f"dubset_{check_stage(stage)}_grpc"
        self.requests = Counter(
            f"{p}_requests",
            f"{stage} gRPC calls by method and status code",
            ["method", "code"],
            registry=registry,
        )
        self.seconds = Histogram(
            f"{p}_request_seconds",
            f"{stage} gRPC call latency",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = str(details.method)
        inner = handler.unary_unary

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.monotonic()
            code = "OK"
            try:
                return inner(request, context)
            except Exception:
                status = context.code()  # type: ignore[attr-defined]
                code = status.name if status is not None else "UNKNOWN"
                raise
            finally:
                self.requests.labels(method, code).inc()
                self.seconds.labels(method).observe(time.monotonic() - started)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
