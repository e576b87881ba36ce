"""gRPC TtsService: maps requests onto the one-clip call, errors onto status codes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import tts_pb2, tts_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.objstore import ObjectStore
from dubset_tts import STAGE
from dubset_tts.config import load_config
from dubset_tts.models import Models
from dubset_tts.synth import synthesize_inline

SERVICE_NAME = "dubset.v1.TtsService"


class TtsServicer(tts_pb2_grpc.TtsServiceServicer):
    def __init__(self, store: ObjectStore, models: Models) -> None:
        self.store = store
        self.models = models

    def Synthesize(
        self, request: tts_pb2.SynthesizeRequest, context: grpc.ServicerContext
    ) -> tts_pb2.SynthesizeResponse:
        with tempfile.TemporaryDirectory(prefix="dubset-tts-") as tmp:
            return synthesize_inline(request, self.store, self.models, Path(tmp))


def start(
    addr: str,
    store: ObjectStore,
    registry: CollectorRegistry | None = None,
    models: Models | None = None,
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = TtsServicer(store, models or Models(load_config()))

    def add(server: grpc.Server) -> None:
        tts_pb2_grpc.add_TtsServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
