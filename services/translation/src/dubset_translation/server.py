"""gRPC TranslationService: maps requests onto the handler, errors onto status codes."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import translation_pb2, translation_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_translation import STAGE
from dubset_translation.handler import translate_inline

SERVICE_NAME = "dubset.v1.TranslationService"


class TranslationServicer(translation_pb2_grpc.TranslationServiceServicer):
    def Translate(
        self, request: translation_pb2.TranslateRequest, context: grpc.ServicerContext
    ) -> translation_pb2.TranslateResponse:
        return translate_inline(request)


def start(addr: str, registry: CollectorRegistry | None = None) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = TranslationServicer()

    def add(server: grpc.Server) -> None:
        translation_pb2_grpc.add_TranslationServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
