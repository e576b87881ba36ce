"""gRPC DiarizationService: maps requests onto the handler, errors onto status codes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import diarization_pb2, diarization_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.objstore import ObjectStore
from dubset_diarization import STAGE
from dubset_diarization.handler import Backends, diarize_inline

SERVICE_NAME = "dubset.v1.DiarizationService"


class DiarizationServicer(diarization_pb2_grpc.DiarizationServiceServicer):
    def __init__(self, store: ObjectStore, backends: Backends) -> None:
        self.store = store
        self.backends = backends

    def Diarize(
        self, request: diarization_pb2.DiarizeRequest, context: grpc.ServicerContext
    ) -> diarization_pb2.DiarizeResponse:
        with tempfile.TemporaryDirectory(prefix="dubset-diarize-") as tmp:
            return diarize_inline(request, self.store, self.backends, Path(tmp))


def start(
    addr: str,
    store: ObjectStore,
    backends: Backends | None = None,
    registry: CollectorRegistry | None = None,
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = DiarizationServicer(store, backends or Backends())

    def add(server: grpc.Server) -> None:
        diarization_pb2_grpc.add_DiarizationServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
