"""gRPC QualityService: Quality runs the stage on the service's store."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import quality_pb2, quality_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_quality import STAGE
from dubset_quality.calls import QualityCalls

SERVICE_NAME = "dubset.v1.QualityService"


class QualityServicer(quality_pb2_grpc.QualityServiceServicer):
    def __init__(self, store: ObjectStore, metrics: StageMetrics) -> None:
        self.calls = QualityCalls(store, metrics)

    def Quality(
        self, request: quality_pb2.QualityRequest, context: grpc.ServicerContext
    ) -> quality_pb2.QualityResponse:
        return self.calls.quality(request)


def start(
    addr: str, store: ObjectStore, registry: CollectorRegistry | None = None
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    metrics = StageMetrics.create(registry or CollectorRegistry(), STAGE)
    servicer = QualityServicer(store, metrics)

    def add(server: grpc.Server) -> None:
        quality_pb2_grpc.add_QualityServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
