"""gRPC AsrService: maps requests onto the handler, errors onto status codes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import asr_pb2, asr_pb2_grpc
from dubset_asr import STAGE
from dubset_asr.handler import BackendLoader, default_loader, transcribe_inline
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.objstore import ObjectStore

SERVICE_NAME = "dubset.v1.AsrService"


class AsrServicer(asr_pb2_grpc.AsrServiceServicer):
    def __init__(self, store: ObjectStore, loader: BackendLoader = default_loader) -> None:
        self.store = store
        self.loader = loader

    def Transcribe(
        self, request: asr_pb2.TranscribeRequest, context: grpc.ServicerContext
    ) -> asr_pb2.TranscribeResponse:
        with tempfile.TemporaryDirectory(prefix="dubset-asr-") as tmp:
            return transcribe_inline(request, self.store, Path(tmp), self.loader)


def start(
    addr: str,
    store: ObjectStore,
    registry: CollectorRegistry | None = None,
    loader: BackendLoader = default_loader,
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = AsrServicer(store, loader)

    def add(server: grpc.Server) -> None:
        asr_pb2_grpc.add_AsrServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
