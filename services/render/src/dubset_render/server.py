"""gRPC RenderService: Render runs the stage on the service's store."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import render_pb2, render_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_render import STAGE
from dubset_render.calls import RenderCalls

SERVICE_NAME = "dubset.v1.RenderService"


class RenderServicer(render_pb2_grpc.RenderServiceServicer):
    def __init__(self, store: ObjectStore, metrics: StageMetrics) -> None:
        self.calls = RenderCalls(store, metrics)

    def Render(
        self, request: render_pb2.RenderRequest, context: grpc.ServicerContext
    ) -> render_pb2.RenderResponse:
        return self.calls.render(request)


def start(
    addr: str, store: ObjectStore, registry: CollectorRegistry | None = None
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    metrics = StageMetrics.create(registry or CollectorRegistry(), STAGE)
    servicer = RenderServicer(store, metrics)

    def add(server: grpc.Server) -> None:
        render_pb2_grpc.add_RenderServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
