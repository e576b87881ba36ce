"""gRPC MediaService: maps requests onto the handler, errors onto status codes."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import media_pb2, media_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.objstore import ObjectStore
from dubset_media import STAGE
from dubset_media.calls import MediaCalls
from dubset_media.ffmpeg import Tools

SERVICE_NAME = "dubset.v1.MediaService"


class MediaServicer(media_pb2_grpc.MediaServiceServicer):
    def __init__(self, store: ObjectStore, tools: Tools | None = None) -> None:
        self.calls = MediaCalls(store, tools)

    def Probe(
        self, request: media_pb2.ProbeRequest, context: grpc.ServicerContext
    ) -> media_pb2.ProbeResponse:
        return self.calls.probe(request)

    def Extract(
        self, request: media_pb2.ExtractRequest, context: grpc.ServicerContext
    ) -> media_pb2.ExtractResponse:
        return self.calls.extract(request)

    def EstimateOffset(
        self, request: media_pb2.EstimateOffsetRequest, context: grpc.ServicerContext
    ) -> media_pb2.EstimateOffsetResponse:
        return self.calls.estimate_offset(request)


def start(
    addr: str, store: ObjectStore, registry: CollectorRegistry | None = None
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = MediaServicer(store)

    def add(server: grpc.Server) -> None:
        media_pb2_grpc.add_MediaServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
