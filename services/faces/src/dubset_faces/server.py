"""gRPC FacesService: Faces runs the stage on the service's store."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import faces_pb2, faces_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_faces import STAGE
from dubset_faces.calls import FacesCalls

SERVICE_NAME = "dubset.v1.FacesService"


class FacesServicer(faces_pb2_grpc.FacesServiceServicer):
    def __init__(self, store: ObjectStore, metrics: StageMetrics) -> None:
        self.calls = FacesCalls(store, metrics)

    def Faces(
        self, request: faces_pb2.FacesRequest, context: grpc.ServicerContext
    ) -> faces_pb2.FacesResponse:
        return self.calls.faces(request)


def start(
    addr: str, store: ObjectStore, registry: CollectorRegistry | None = None
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    metrics = StageMetrics.create(registry or CollectorRegistry(), STAGE)
    servicer = FacesServicer(store, metrics)

    def add(server: grpc.Server) -> None:
        faces_pb2_grpc.add_FacesServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
