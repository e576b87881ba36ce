"""gRPC AlignmentService: maps requests onto the handler, errors onto status codes."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import alignment_pb2, alignment_pb2_grpc
from dubset_alignment import STAGE
from dubset_alignment.handler import align_inline
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server

SERVICE_NAME = "dubset.v1.AlignmentService"


class AlignmentServicer(alignment_pb2_grpc.AlignmentServiceServicer):
    def Align(
        self, request: alignment_pb2.AlignRequest, context: grpc.ServicerContext
    ) -> alignment_pb2.AlignResponse:
        return align_inline(request)


def start(addr: str, registry: CollectorRegistry | None = None) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = AlignmentServicer()

    def add(server: grpc.Server) -> None:
        alignment_pb2_grpc.add_AlignmentServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
